// The only place the glue includes nginx: its headers are C, first, in extern "C".
#pragma once

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

extern "C" ngx_module_t ngx_http_tailor_module;
