# homa_add_test(BINARY <name> SOURCES <files...> [LIBS <libs...>] [LABELS <labels...>]
#               [TIMEOUT <seconds>])
#
# Builds one cmocka test binary and registers every test case it contains with
# CTest as "<name>.<case>", so `ctest -N` lists the tests by name and a single
# case can be run alone (`ctest -R wire.decode_data`). Cases are discovered by
# scanning the sources for cmocka_unit_test*(name...) entries; the binary runs a
# single case when given its name as argv[1] (see tests/common/homa_test.h).
function(homa_add_test)
  cmake_parse_arguments(T "" "BINARY;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_BINARY} ${T_SOURCES})
  target_include_directories(${T_BINARY} PRIVATE ${PROJECT_SOURCE_DIR}/include
    ${PROJECT_SOURCE_DIR}/src/core ${PROJECT_SOURCE_DIR}/tests/common)
  target_link_libraries(${T_BINARY} PRIVATE ${T_LIBS} cmocka)
  target_compile_definitions(${T_BINARY} PRIVATE
    HOMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(cases "")
  foreach(src ${T_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    if(abs MATCHES "test_[^/]*\\.c$")
      file(STRINGS ${abs} lines REGEX "cmocka_unit_test[a-z_]*\\(")
      foreach(line ${lines})
        string(REGEX MATCHALL "cmocka_unit_test[a-z_]*\\( *[A-Za-z0-9_]+" hits "${line}")
        foreach(hit ${hits})
          string(REGEX REPLACE "cmocka_unit_test[a-z_]*\\( *" "" name "${hit}")
          list(APPEND cases ${name})
        endforeach()
      endforeach()
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${abs})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES cases)
  foreach(c ${cases})
    string(REGEX REPLACE "^test_" "" short ${c})
    add_test(NAME ${T_BINARY}.${short} COMMAND ${T_BINARY} ${c})
    set_tests_properties(${T_BINARY}.${short} PROPERTIES TIMEOUT ${T_TIMEOUT}
      LABELS "${T_LABELS}")
  endforeach()
endfunction()
