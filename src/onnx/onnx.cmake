# src/onnx/onnx.cmake — generate the protobuf-c sources for the ONNX schema at
# build time (never committed). Included (OPTIONAL) by the top CMakeLists.txt.
#
# Input:  the ONNX schema installed by Debian's libonnx-dev
#         (/usr/include/onnx/onnx.proto; override with -DNNS_ONNX_PROTO=...).
# Output: ${CMAKE_BINARY_DIR}/generated/onnx.pb-c.{c,h}
# Sets:   NNS_GENERATED_SOURCES (the generated .c) and the custom target
#         nns_onnx_proto, on which nnslim_obj depends.

find_program(NNS_PROTOC_C NAMES protoc-c
             DOC "protoc-c, the protobuf-c compiler (Debian: protobuf-c-compiler)")
if(NOT NNS_PROTOC_C)
  message(FATAL_ERROR
    "protoc-c not found: it is needed to generate the ONNX reader/writer. "
    "Install it (Debian: apt-get install protobuf-c-compiler) or pass "
    "-DNNS_PROTOC_C=/path/to/protoc-c.")
endif()

set(NNS_ONNX_PROTO "/usr/include/onnx/onnx.proto" CACHE FILEPATH
    "The ONNX protobuf schema (Debian: libonnx-dev)")
if(NOT EXISTS "${NNS_ONNX_PROTO}")
  message(FATAL_ERROR
    "ONNX schema '${NNS_ONNX_PROTO}' not found. Install it (Debian: apt-get "
    "install libonnx-dev) or pass -DNNS_ONNX_PROTO=/path/to/onnx.proto.")
endif()

set(NNS_GENERATED_DIR "${CMAKE_BINARY_DIR}/generated")
file(MAKE_DIRECTORY "${NNS_GENERATED_DIR}")

# The schema is copied under a fixed name so that the generated files are
# always onnx.pb-c.{c,h}, whatever the installed file is called (onnx-ml.proto,
# onnx.proto3 ...), and so that protoc-c sees no other .proto next to it.
add_custom_command(
  OUTPUT "${NNS_GENERATED_DIR}/onnx.pb-c.c" "${NNS_GENERATED_DIR}/onnx.pb-c.h"
  COMMAND ${CMAKE_COMMAND} -E copy "${NNS_ONNX_PROTO}" "${NNS_GENERATED_DIR}/onnx.proto"
  COMMAND "${NNS_PROTOC_C}" "--proto_path=${NNS_GENERATED_DIR}"
          "--c_out=${NNS_GENERATED_DIR}" "${NNS_GENERATED_DIR}/onnx.proto"
  DEPENDS "${NNS_ONNX_PROTO}"
  WORKING_DIRECTORY "${NNS_GENERATED_DIR}"
  COMMENT "Generating protobuf-c sources from ${NNS_ONNX_PROTO}"
  VERBATIM)

add_custom_target(nns_onnx_proto
  DEPENDS "${NNS_GENERATED_DIR}/onnx.pb-c.c" "${NNS_GENERATED_DIR}/onnx.pb-c.h")

set(NNS_GENERATED_SOURCES "${NNS_GENERATED_DIR}/onnx.pb-c.c")
set_source_files_properties(${NNS_GENERATED_SOURCES} PROPERTIES GENERATED TRUE)
# Generated code is not ours to keep -Wall -Wextra clean; never let it break the
# build (no -Werror is used anyway), and quieten what protoc-c is known to emit.
set_source_files_properties(${NNS_GENERATED_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-Wno-unused-parameter;-Wno-missing-field-initializers")
