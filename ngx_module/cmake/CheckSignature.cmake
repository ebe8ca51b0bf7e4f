# ctest script: the module's signature string must equal the nginx binary's,
# or nginx refuses it as "not binary compatible".
function(signature_of file out)
    file(STRINGS "${file}" _sigs REGEX "^[0-9]+,[0-9]+,[0-9]+,[01]+$")
    list(LENGTH _sigs _n)
    if(_n EQUAL 0)
        message(FATAL_ERROR "no nginx module signature in ${file}")
    endif()
    list(GET _sigs 0 _sig)
    set(${out} "${_sig}" PARENT_SCOPE)
endfunction()

signature_of("${MODULE}" module_sig)
signature_of("${NGINX}" nginx_sig)
if(NOT module_sig STREQUAL nginx_sig)
    message(FATAL_ERROR "signature mismatch: module ${module_sig}, nginx ${nginx_sig}")
endif()
message(STATUS "signature ${module_sig} matches ${NGINX}")
