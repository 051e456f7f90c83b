# tests/fuzz/fuzz.cmake — the fuzz targets (included by CMakeLists.txt).
#
# -DNNS_FUZZ=ON (clang only): the whole library is instrumented for libFuzzer
# with ASan + UBSan, and each tests/fuzz/fuzz_<target>.c becomes a fuzzer
# fuzz_<target> (scripts/fuzz.sh runs them).
# Otherwise (any compiler, any build type): each target links with replay.c
# as fuzz_replay_<target>, and the CTest of the same name replays
# tests/fuzz/corpus/<target>/ and tests/fuzz/regress/<target>/.
file(GLOB NNS_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
if(NNS_FUZZ)
  foreach(src ${NNS_FUZZ_TARGETS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE nnslim_static)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  endforeach()
elseif(NNS_BUILD_TESTS)
  foreach(src ${NNS_FUZZ_TARGETS})
    get_filename_component(name ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" target ${name})
    add_executable(fuzz_replay_${target} ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c)
    target_link_libraries(fuzz_replay_${target} PRIVATE nnslim_static)
    add_test(NAME fuzz_replay_${target} COMMAND fuzz_replay_${target}
             ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${target}
             ${CMAKE_SOURCE_DIR}/tests/fuzz/regress/${target})
    set_tests_properties(fuzz_replay_${target} PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=1")
  endforeach()
endif()
