# Provides nginx::headers (include dirs of a configured nginx tree) and NGX_BIN.
#
# Debian's nginx-dev ships headers without objs/, so nginx's configure runs here
# once, with the flags the stock binary was built with (conf_flags), so that the
# module signature and the configured types match /usr/sbin/nginx.

set(NGX_SRC_DIR "/usr/share/nginx/src" CACHE PATH "nginx-dev source tree")
set(NGX_OBJS_DIR "" CACHE PATH "an already configured objs/ dir; empty: configure here")
set(NGX_BIN "/usr/sbin/nginx" CACHE FILEPATH "the nginx binary the module is for")

if(NGX_OBJS_DIR)
    get_filename_component(NGX_TREE "${NGX_OBJS_DIR}/.." ABSOLUTE)
else()
    if(NOT EXISTS "${NGX_SRC_DIR}/src/core/nginx.h")
        message(FATAL_ERROR "nginx-dev tree not found at ${NGX_SRC_DIR} (apt-get install nginx-dev)")
    endif()
    set(NGX_TREE "${CMAKE_BINARY_DIR}/nginx")
    set(NGX_OBJS_DIR "${NGX_TREE}/objs")

    set(_stamp_inputs "${NGX_SRC_DIR}/src/core/nginx.h")
    if(EXISTS "${NGX_SRC_DIR}/conf_flags")
        list(APPEND _stamp_inputs "${NGX_SRC_DIR}/conf_flags")
    endif()
    set(_stamp "")
    foreach(_f IN LISTS _stamp_inputs)
        file(SHA256 "${_f}" _h)
        string(APPEND _stamp "${_h}")
    endforeach()

    set(_stamp_file "${NGX_TREE}/.tailor-configured")
    set(_old "")
    if(EXISTS "${_stamp_file}")
        file(READ "${_stamp_file}" _old)
    endif()

    if(NOT _old STREQUAL _stamp OR NOT EXISTS "${NGX_OBJS_DIR}/ngx_auto_config.h")
        message(STATUS "Configuring nginx headers from ${NGX_SRC_DIR}")
        file(REMOVE_RECURSE "${NGX_TREE}")
        file(COPY "${NGX_SRC_DIR}/" DESTINATION "${NGX_TREE}")
        execute_process(
            COMMAND bash -c [=[
                set -e
                if [ -f conf_flags ]; then . ./conf_flags; else NGX_CONF_FLAGS=(--with-compat); fi
                ./configure "${NGX_CONF_FLAGS[@]}"
            ]=]
            WORKING_DIRECTORY "${NGX_TREE}"
            OUTPUT_FILE "${NGX_TREE}/configure.log"
            ERROR_FILE "${NGX_TREE}/configure.log"
            RESULT_VARIABLE _rc)
        if(NOT _rc EQUAL 0)
            message(FATAL_ERROR "nginx configure failed; see ${NGX_TREE}/configure.log")
        endif()
        file(WRITE "${_stamp_file}" "${_stamp}")
    endif()
endif()

add_library(nginx_headers INTERFACE)
add_library(nginx::headers ALIAS nginx_headers)
target_include_directories(nginx_headers SYSTEM INTERFACE
    ${NGX_OBJS_DIR}
    ${NGX_TREE}/src/core
    ${NGX_TREE}/src/event
    ${NGX_TREE}/src/event/modules
    ${NGX_TREE}/src/event/quic
    ${NGX_TREE}/src/os/unix
    ${NGX_TREE}/src/http
    ${NGX_TREE}/src/http/modules
    ${NGX_TREE}/src/http/v2
    ${NGX_TREE}/src/http/v3)
target_compile_definitions(nginx_headers INTERFACE _FILE_OFFSET_BITS=64)
