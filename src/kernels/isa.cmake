# src/kernels/isa.cmake — compile flags of the ISA kernel files, from the one
# table src/kernels/isa.def (included by CMakeLists.txt).
#
# A file src/kernels/x86/<name>__<suffix>.c gets exactly -m<feature> for each
# feature NNS_SUFFIX(<suffix>, ...) lists in isa.def (lower case), the same
# list dispatch.c requires of the CPU before it uses the file's kernels. A
# file with a suffix isa.def does not know stops the configuration.
# Defines NNS_ISA_SUFFIXES, NNS_ISA_LEVELS and nns_isa_flags(suffix var).
file(STRINGS ${CMAKE_SOURCE_DIR}/src/kernels/isa.def NNS_ISA_DEF_LINES REGEX "^NNS_(SUFFIX|LEVEL)\\(")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/kernels/isa.def)
set(NNS_ISA_SUFFIXES "")
set(NNS_ISA_LEVELS "")
foreach(line ${NNS_ISA_DEF_LINES})
  if(line MATCHES "^NNS_SUFFIX\\(([a-z0-9_]+),(.*)\\)")
    set(sfx ${CMAKE_MATCH_1})
    string(REGEX MATCHALL "NNS_F\\([A-Z0-9_]+\\)" feats "${CMAKE_MATCH_2}")
    set(flags "")
    foreach(f ${feats})
      string(REGEX REPLACE "NNS_F\\(([A-Z0-9_]+)\\)" "\\1" f "${f}")
      string(TOLOWER "${f}" f)
      list(APPEND flags "-m${f}")
    endforeach()
    list(APPEND NNS_ISA_SUFFIXES ${sfx})
    set(NNS_ISA_FLAGS_${sfx} "${flags}")
  elseif(line MATCHES "^NNS_LEVEL\\([A-Z0-9_]+, *([a-z0-9_]+)")
    list(APPEND NNS_ISA_LEVELS ${CMAKE_MATCH_1})
  endif()
endforeach()

function(nns_isa_flags sfx var)
  if(NOT DEFINED NNS_ISA_FLAGS_${sfx})
    message(FATAL_ERROR "ISA suffix '${sfx}' is not in src/kernels/isa.def")
  endif()
  set(${var} "${NNS_ISA_FLAGS_${sfx}}" PARENT_SCOPE)
endfunction()

file(GLOB NNS_ISA_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/kernels/x86/*.c)
foreach(src ${NNS_ISA_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  if(NOT name MATCHES "__([a-z0-9]+)$")
    message(FATAL_ERROR "${src}: an ISA kernel file is named <symbol>__<suffix>.c")
  endif()
  nns_isa_flags(${CMAKE_MATCH_1} flags)
  # Outside Release (the sanitizer and fuzz builds) the SIMD kernels are still
  # optimised, still instrumented: at -O0 their intrinsics ran 10-50x slower and
  # the ASan suite's command-line tests ran past CTest's 900 s limit.
  if(NOT CMAKE_BUILD_TYPE STREQUAL "Release")
    list(APPEND flags -O2)
  endif()
  set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${flags}")
endforeach()
