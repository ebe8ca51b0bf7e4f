// ngx_http_tailor_redis_conf: "tailor_redis" arguments to a settled, POD conf.
#include "ngx_http_tailor_redis.h"

namespace {

constexpr ngx_msec_t kConnectTimeout = 100;
constexpr ngx_msec_t kStallTimeout = 1000;
constexpr ngx_msec_t kReconnect = 100;
constexpr ngx_msec_t kReconnectMax = 5000;
constexpr ngx_uint_t kMaxPending = 4096;
constexpr size_t kMaxOutput = 1024 * 1024;
constexpr size_t kMaxReply = 8 * 1024 * 1024;
constexpr ngx_uint_t kMaxDb = 65535;

// "name=value": is `arg` the parameter `name`? If so, `value` is what follows.
bool ngx_http_tailor_redis_param(const ngx_str_t* arg, const char* name,
                                 ngx_str_t* value) noexcept {
    size_t len;

    len = ngx_strlen(name);

    if (arg->len <= len || arg->data[len] != '=' || ngx_strncmp(arg->data, name, len) != 0) {
        return false;
    }

    value->data = arg->data + len + 1;
    value->len = arg->len - len - 1;
    return true;
}

char* ngx_http_tailor_redis_parse_msec(ngx_conf_t* cf, const char* name, ngx_str_t* value,
                                       ngx_msec_t* out) noexcept {
    ngx_int_t ms;

    ms = ngx_parse_time(value, 0);
    if (ms == NGX_ERROR || ms <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid %s \"%V\" in \"tailor_redis\"", name,
                           value);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    *out = static_cast<ngx_msec_t>(ms);
    return NGX_CONF_OK;
}

char* ngx_http_tailor_redis_parse_size(ngx_conf_t* cf, const char* name, ngx_str_t* value,
                                       size_t* out) noexcept {
    ssize_t size;

    size = ngx_parse_size(value);
    if (size == NGX_ERROR || size <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid %s \"%V\" in \"tailor_redis\"", name,
                           value);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    *out = static_cast<size_t>(size);
    return NGX_CONF_OK;
}

char* ngx_http_tailor_redis_parse_address(ngx_conf_t* cf, ngx_str_t* address,
                                          ngx_http_tailor_redis_conf_t* conf) noexcept {
    u_char* p;
    size_t len;
    ngx_url_t u;
    ngx_addr_t* addr;
    struct sockaddr* sa;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = *address;
    u.default_port = NGX_HTTP_TAILOR_REDIS_DEFAULT_PORT;

    // ngx_parse_url resolves a host name now, with the blocking resolver;
    // that is the point: the workers must only ever see a literal
    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"tailor_redis\" address \"%V\"", u.err,
                               &u.url);
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid \"tailor_redis\" address \"%V\"",
                               &u.url);
        }
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (u.naddrs == 0 || u.addrs == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "no address for \"tailor_redis\" \"%V\"", &u.url);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    addr = &u.addrs[0];
    sa = addr->sockaddr;

    switch (sa->sa_family) {
#if (NGX_HAVE_UNIX_DOMAIN)
        case AF_UNIX: {
            auto* saun = reinterpret_cast<struct sockaddr_un*>(sa);

            len = ngx_strnlen(reinterpret_cast<u_char*>(saun->sun_path), sizeof(saun->sun_path));
            if (len == 0 || len >= sizeof(conf->host)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid unix path in \"tailor_redis\" \"%V\"", &u.url);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            p = ngx_cpymem(reinterpret_cast<u_char*>(conf->host), saun->sun_path, len);
            *p = '\0';
            conf->port = 0;
            conf->unix_socket = 1;
            break;
        }
#endif

        case AF_INET:
#if (NGX_HAVE_INET6)
        case AF_INET6:
#endif
            len = ngx_sock_ntop(sa, addr->socklen, reinterpret_cast<u_char*>(conf->host),
                                sizeof(conf->host) - 1, 0);
            if (len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid \"tailor_redis\" address \"%V\"",
                                   &u.url);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            conf->host[len] = '\0';
            conf->port = ngx_inet_get_port(sa);
            conf->unix_socket = 0;
            if (conf->port == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "no port in \"tailor_redis\" \"%V\"",
                                   &u.url);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            break;

        default:
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unsupported address family in \"tailor_redis\" \"%V\"", &u.url);
            return static_cast<char*>(NGX_CONF_ERROR);
    }

    p = static_cast<u_char*>(ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN));
    if (p == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    conf->peer.len = ngx_sock_ntop(sa, addr->socklen, p, NGX_SOCKADDR_STRLEN, 1);
    conf->peer.data = p;

    if (u.naddrs > 1) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"tailor_redis\" \"%V\" has %ui addresses, using %V", &u.url, u.naddrs,
                           &conf->peer);
    }

    return NGX_CONF_OK;
}

char* ngx_http_tailor_redis_parse_flag(ngx_conf_t* cf, const char* name, ngx_str_t* value,
                                       ngx_flag_t* out) noexcept {
    if (value->len == 2 && ngx_strncmp(value->data, "on", 2) == 0) {
        *out = 1;
        return NGX_CONF_OK;
    }

    if (value->len == 3 && ngx_strncmp(value->data, "off", 3) == 0) {
        *out = 0;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid %s \"%V\" in \"tailor_redis\", it must be \"on\" or \"off\"", name,
                       value);
    return static_cast<char*>(NGX_CONF_ERROR);
}

// The addresses after the first: each resolved now, as the first one is.
char* ngx_http_tailor_redis_parse_seeds(ngx_conf_t* cf, ngx_str_t* args, ngx_uint_t n,
                                        ngx_http_tailor_redis_conf_t* conf) noexcept {
    char* rv;
    ngx_uint_t i;
    ngx_http_tailor_redis_conf_t one;

    conf->seeds = static_cast<ngx_http_tailor_redis_addr_t*>(
        ngx_pcalloc(cf->pool, n * sizeof(ngx_http_tailor_redis_addr_t)));
    if (conf->seeds == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    for (i = 0; i < n; i++) {
        ngx_memzero(&one, sizeof(ngx_http_tailor_redis_conf_t));

        rv = ngx_http_tailor_redis_parse_address(cf, &args[i], &one);
        if (rv != NGX_CONF_OK) {
            return rv;
        }

        if (one.unix_socket) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tailor_redis\" cluster seed \"%V\" is a unix socket", &args[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }

        conf->seeds[i].peer = one.peer;
        conf->seeds[i].port = one.port;
        ngx_memcpy(conf->seeds[i].host, one.host, sizeof(one.host));
    }

    conf->nseeds = n;
    return NGX_CONF_OK;
}

}  // namespace

char* ngx_http_tailor_redis_parse_conf(ngx_conf_t* cf, ngx_str_t* args, ngx_uint_t nargs,
                                       ngx_http_tailor_redis_conf_t* conf) noexcept {
    char* rv;
    ngx_int_t n;
    ngx_str_t value;
    ngx_uint_t i;

    if (nargs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "no address in \"tailor_redis\"");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    ngx_memzero(conf, sizeof(ngx_http_tailor_redis_conf_t));

    /*
     * set by ngx_memzero():
     *
     *     conf->user = { 0, NULL };
     *     conf->password = { 0, NULL };
     *     conf->db = 0;
     *     conf->cluster = 0;
     *     conf->replica_reads = 0;
     *     conf->seeds = NULL;
     *     conf->nseeds = 0;
     */

    conf->connect_timeout = kConnectTimeout;
    conf->stall_timeout = kStallTimeout;
    conf->reconnect = kReconnect;
    conf->reconnect_max = kReconnectMax;
    conf->max_pending = kMaxPending;
    conf->max_output = kMaxOutput;
    conf->max_reply = kMaxReply;

    rv = ngx_http_tailor_redis_parse_address(cf, &args[0], conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    // more addresses before the parameters: Redis Cluster seeds
    for (i = 1; i < nargs && ngx_strlchr(args[i].data, args[i].data + args[i].len, '=') == nullptr;
         i++) {
        /* void */
    }

    if (i > 1) {
        rv = ngx_http_tailor_redis_parse_seeds(cf, &args[1], i - 1, conf);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    for (/* void */; i < nargs; i++) {
        rv = NGX_CONF_OK;

        if (ngx_http_tailor_redis_param(&args[i], "connect_timeout", &value)) {
            rv = ngx_http_tailor_redis_parse_msec(cf, "connect_timeout", &value,
                                                  &conf->connect_timeout);

        } else if (ngx_http_tailor_redis_param(&args[i], "stall_timeout", &value)) {
            rv =
                ngx_http_tailor_redis_parse_msec(cf, "stall_timeout", &value, &conf->stall_timeout);

        } else if (ngx_http_tailor_redis_param(&args[i], "reconnect", &value)) {
            rv = ngx_http_tailor_redis_parse_msec(cf, "reconnect", &value, &conf->reconnect);

        } else if (ngx_http_tailor_redis_param(&args[i], "reconnect_max", &value)) {
            rv =
                ngx_http_tailor_redis_parse_msec(cf, "reconnect_max", &value, &conf->reconnect_max);

        } else if (ngx_http_tailor_redis_param(&args[i], "max_output", &value)) {
            rv = ngx_http_tailor_redis_parse_size(cf, "max_output", &value, &conf->max_output);

        } else if (ngx_http_tailor_redis_param(&args[i], "max_reply", &value)) {
            rv = ngx_http_tailor_redis_parse_size(cf, "max_reply", &value, &conf->max_reply);

        } else if (ngx_http_tailor_redis_param(&args[i], "max_pending", &value)) {
            n = ngx_atoi(value.data, value.len);
            if (n == NGX_ERROR || n <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_pending \"%V\" in \"tailor_redis\"", &value);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            conf->max_pending = static_cast<ngx_uint_t>(n);

        } else if (ngx_http_tailor_redis_param(&args[i], "db", &value)) {
            n = ngx_atoi(value.data, value.len);
            if (n == NGX_ERROR || static_cast<ngx_uint_t>(n) > kMaxDb) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid db \"%V\" in \"tailor_redis\"",
                                   &value);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            conf->db = static_cast<ngx_uint_t>(n);

        } else if (ngx_http_tailor_redis_param(&args[i], "cluster", &value)) {
            rv = ngx_http_tailor_redis_parse_flag(cf, "cluster", &value, &conf->cluster);

        } else if (ngx_http_tailor_redis_param(&args[i], "replica_reads", &value)) {
            rv =
                ngx_http_tailor_redis_parse_flag(cf, "replica_reads", &value, &conf->replica_reads);

        } else if (ngx_http_tailor_redis_param(&args[i], "user", &value)) {
            if (value.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty user in \"tailor_redis\"");
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            conf->user = value;

        } else if (ngx_http_tailor_redis_param(&args[i], "password", &value)) {
            if (value.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty password in \"tailor_redis\"");
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            conf->password = value;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\" in \"tailor_redis\"",
                               &args[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }

        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (conf->user.len && conf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_redis\" has user= but no password=");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (conf->nseeds > 0 && !conf->cluster) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_redis\" has several addresses but no cluster=on");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (conf->cluster && conf->unix_socket) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_redis\" cluster=on needs host:port seeds, not a unix socket");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (conf->cluster && conf->db) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_redis\" cluster=on has only db 0, db=%ui is refused",
                           conf->db);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (conf->replica_reads && !conf->cluster) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_redis\" replica_reads=on needs cluster=on");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (conf->reconnect_max < conf->reconnect) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "reconnect_max %M is less than reconnect %M in \"tailor_redis\"",
                           conf->reconnect_max, conf->reconnect);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}
