# hive_add_module(name SOURCES ... DEPS ... [PRIVATE_DEPS ...])
# Makes the static library target hive_<name> (alias hive::<name>) for one module folder.
function(hive_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(hive_${name} STATIC ${ARG_SOURCES})
  add_library(hive::${name} ALIAS hive_${name})
  target_link_libraries(hive_${name} PUBLIC hive_internal ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()
