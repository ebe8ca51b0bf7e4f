// ngx_http_tailor_module: directives, configuration and module registration.
#include "ngx_http_tailor.h"

namespace {

struct ngx_http_tailor_loc_conf_t {
    ngx_flag_t enable;
};

void* ngx_http_tailor_create_loc_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;

ngx_command_t ngx_http_tailor_commands[] = {
    {ngx_string("tailor"), NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_tailor_loc_conf_t, enable),
     nullptr},
    ngx_null_command};

ngx_http_module_t ngx_http_tailor_module_ctx = {
    nullptr,                          // preconfiguration
    nullptr,                          // postconfiguration
    nullptr,                          // create main configuration
    nullptr,                          // init main configuration
    nullptr,                          // create server configuration
    nullptr,                          // merge server configuration
    ngx_http_tailor_create_loc_conf,  // create location configuration
    ngx_http_tailor_merge_loc_conf    // merge location configuration
};

void* ngx_http_tailor_create_loc_conf(ngx_conf_t* cf) noexcept {
    auto* conf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_loc_conf_t)));
    if (conf == nullptr) {
        return nullptr;
    }
    conf->enable = NGX_CONF_UNSET;
    return conf;
}

char* ngx_http_tailor_merge_loc_conf(ngx_conf_t*, void* parent, void* child) noexcept {
    auto* prev = static_cast<ngx_http_tailor_loc_conf_t*>(parent);
    auto* conf = static_cast<ngx_http_tailor_loc_conf_t*>(child);
    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    return NGX_CONF_OK;
}

}  // namespace

ngx_module_t ngx_http_tailor_module = {NGX_MODULE_V1,
                                       &ngx_http_tailor_module_ctx,  // module context
                                       ngx_http_tailor_commands,     // module directives
                                       NGX_HTTP_MODULE,              // module type
                                       nullptr,                      // init master
                                       nullptr,                      // init module
                                       nullptr,                      // init process
                                       nullptr,                      // init thread
                                       nullptr,                      // exit thread
                                       nullptr,                      // exit process
                                       nullptr,                      // exit master
                                       NGX_MODULE_V1_PADDING};
