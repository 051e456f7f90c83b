# tests/isa_tests.cmake — tests of the ISA levels (included by CMakeLists.txt
# after the tests are defined).
#
# 1. The op, golden, ONNX and int8 tests run once more per ISA level of
#    src/kernels/isa.def, as <test>_isa_<level> with NNS_ISA=<level>, through
#    isa_run: a level the CPU lacks is skipped (exit 77), so the lower kernel
#    paths stay tested on machines that have higher ones.
# 2. test_kernel_flags links one probe per kernel-file suffix, compiled with
#    the flags nns_isa_flags() gives that suffix's kernel files.
# 3. test_models (below).
add_executable(isa_run ${CMAKE_SOURCE_DIR}/tests/isa_run.c)
target_link_libraries(isa_run PRIVATE nnslim_static)
set(NNS_ISA_TESTS test_ops_conv test_ops_misc test_golden test_onnx test_conformance test_int8 test_int8_graph)
foreach(level ${NNS_ISA_LEVELS})
  foreach(t ${NNS_ISA_TESTS})
    add_test(NAME ${t}_isa_${level} COMMAND isa_run $<TARGET_FILE:${t}>)
    set_tests_properties(${t}_isa_${level} PROPERTIES SKIP_RETURN_CODE 77
      ENVIRONMENT "NNS_ISA=${level};NNS_SOURCE_DIR=${CMAKE_SOURCE_DIR};NNS_BINARY_DIR=${CMAKE_BINARY_DIR};OMP_NUM_THREADS=2")
  endforeach()
endforeach()

# 3. The committed whole networks (tests/models/, tools/export_zoo.py --tiny)
#    against PyTorch's outputs, at the default level and at every ISA level.
add_test(NAME test_models COMMAND test_conformance --models ${CMAKE_SOURCE_DIR}/tests/models)
foreach(level ${NNS_ISA_LEVELS})
  add_test(NAME test_models_isa_${level}
    COMMAND isa_run $<TARGET_FILE:test_conformance> --models ${CMAKE_SOURCE_DIR}/tests/models)
  set_tests_properties(test_models_isa_${level} PROPERTIES SKIP_RETURN_CODE 77
    ENVIRONMENT "NNS_ISA=${level};OMP_NUM_THREADS=2")
endforeach()

foreach(sfx ${NNS_ISA_SUFFIXES})
  nns_isa_flags(${sfx} flags)
  add_library(isa_probe_${sfx} OBJECT ${CMAKE_SOURCE_DIR}/tests/isa_probe.c)
  target_include_directories(isa_probe_${sfx} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_compile_definitions(isa_probe_${sfx} PRIVATE NNS_PROBE_FN=nns_isa_probe_${sfx})
  target_compile_options(isa_probe_${sfx} PRIVATE ${flags})
  target_sources(test_kernel_flags PRIVATE $<TARGET_OBJECTS:isa_probe_${sfx}>)
endforeach()
