// check_no_kept_state: LuaJIT's bytecode dump of a pack file, read for upvalue writes.
#include "tailor/rules/state_check.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <lua.hpp>

namespace tailor {
namespace {

// One function of a dump (lj_bcwrite.c's layout): its instructions without
// the header one, and its line information when the dump keeps it.
struct Proto {
    uint32_t firstline = 0;
    uint32_t numline = 0;
    std::vector<uint32_t> ins;
    std::vector<uint16_t> uv;  // each upvalue's origin in the parent (0x8000: a local slot)
    int parent = -1;           // index of the enclosing function, -1 for the file's chunk
    const uint8_t* lineinfo = nullptr;
    size_t lineinfo_size = 0;

    // The line of dumped instruction i (the dump leaves out the function's
    // header instruction, and its line information starts after it too).
    [[nodiscard]] int line_of(size_t i) const {
        size_t pc = i;
        size_t width = numline < 256 ? 1 : numline < 65536 ? 2 : 4;
        if (lineinfo == nullptr || (pc + 1) * width > lineinfo_size) {
            return static_cast<int>(firstline);
        }
        uint32_t delta = 0;
        std::memcpy(&delta, lineinfo + pc * width, width);  // little-endian host
        return static_cast<int>(firstline + delta);
    }
};

class DumpReader {
  public:
    DumpReader(const std::string& bytes)
        : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

    bool read(std::vector<Proto>* out) {
        if (end_ - p_ < 4 || p_[0] != 0x1b || p_[1] != 'L' || p_[2] != 'J') {
            return false;
        }
        p_ += 4;  // ESC 'L' 'J' version
        uint32_t flags = uleb();
        if ((flags & 0x02) == 0) {  // not stripped: the chunk name
            skip(uleb());
        }
        while (ok_) {
            uint32_t len = uleb();
            if (!ok_ || len == 0) {
                break;
            }
            if (static_cast<size_t>(end_ - p_) < len) {
                return false;
            }
            const uint8_t* proto_end = p_ + len;
            Proto pt;
            skip(3);  // flags, numparams, framesize
            uint8_t sizeuv = byte();
            uint32_t sizekgc = uleb();
            (void)uleb();  // sizekn
            uint32_t sizebc = uleb();
            uint32_t sizedbg = (flags & 0x02) == 0 ? uleb() : 0;
            if (sizedbg != 0) {
                pt.firstline = uleb();
                pt.numline = uleb();
            }
            if (!ok_ || static_cast<size_t>(proto_end - p_) < size_t{sizebc} * 4 + sizeuv * 2u ||
                sizedbg > len) {
                return false;
            }
            pt.ins.resize(sizebc);
            if (sizebc != 0) {
                std::memcpy(pt.ins.data(), p_, size_t{sizebc} * 4);
            }
            p_ += size_t{sizebc} * 4;
            pt.uv.resize(sizeuv);
            if (sizeuv != 0) {
                std::memcpy(pt.uv.data(), p_, size_t{sizeuv} * 2);
            }
            p_ += size_t{sizeuv} * 2;
            if (sizedbg != 0) {
                pt.lineinfo = proto_end - sizedbg;
                pt.lineinfo_size = sizedbg;
            }
            // Nested functions are written before their parent, which names
            // them as constants: they are popped from the stack of the
            // functions read so far, as LuaJIT's reader does.
            auto self = static_cast<int>(out->size());
            for (uint32_t k = 0; k < sizekgc && ok_; ++k) {
                if (kgc_is_child()) {
                    if (pending_.empty()) {
                        return false;
                    }
                    (*out)[static_cast<size_t>(pending_.back())].parent = self;
                    pending_.pop_back();
                }
            }
            out->push_back(std::move(pt));
            pending_.push_back(self);
            p_ = proto_end;
        }
        return ok_;
    }

  private:
    // Skips one GC constant; true when it is a nested function.
    bool kgc_is_child() {
        uint32_t tp = uleb();
        if (tp == 0) {
            return true;
        }
        if (tp == 1) {  // a table: array part, then hash pairs
            uint32_t narray = uleb();
            uint32_t nhash = uleb();
            for (uint64_t i = 0; ok_ && i < uint64_t{narray} + 2ull * nhash; ++i) {
                skip_ktabk();
            }
        } else if (tp == 2 || tp == 3) {  // int64, uint64
            (void)uleb();
            (void)uleb();
        } else if (tp == 4) {  // complex
            for (int i = 0; i < 4; ++i) {
                (void)uleb();
            }
        } else {
            skip(tp - 5);  // a string
        }
        return false;
    }
    void skip_ktabk() {
        uint32_t tp = uleb();
        if (tp >= 5) {
            skip(tp - 5);
        } else if (tp == 3) {
            (void)uleb();
        } else if (tp == 4) {
            (void)uleb();
            (void)uleb();
        }
    }
    uint8_t byte() {
        if (p_ >= end_) {
            ok_ = false;
            return 0;
        }
        return *p_++;
    }
    void skip(size_t n) {
        if (static_cast<size_t>(end_ - p_) < n) {
            ok_ = false;
            p_ = end_;
            return;
        }
        p_ += n;
    }
    uint32_t uleb() {
        uint32_t v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            uint8_t b = byte();
            v |= static_cast<uint32_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        ok_ = false;
        return 0;
    }

    const uint8_t* p_;
    const uint8_t* end_;
    bool ok_ = true;
    std::vector<int> pending_;  // functions read whose parent is not read yet
};

// Whether upvalue `uv` of function `f` is a local of the file's chunk: one
// that lives as long as the pack, not as one call of a function.
bool is_file_local(const std::vector<Proto>& protos, int f, unsigned uv) {
    for (int depth = 0; depth < 256 && f >= 0; ++depth) {
        const Proto& pt = protos[static_cast<size_t>(f)];
        if (uv >= pt.uv.size() || pt.parent < 0) {
            return false;
        }
        uint16_t ref = pt.uv[uv];
        if ((ref & 0x8000) != 0) {
            return protos[static_cast<size_t>(pt.parent)].parent < 0;
        }
        uv = ref & 0x3fff;
        f = pt.parent;
    }
    return false;
}

int collect(lua_State*, const void* p, size_t sz, void* ud) {
    static_cast<std::string*>(ud)->append(static_cast<const char*>(p), sz);
    return 0;
}

// The dump of the function on top of the stack, read into protos, which
// point into `*bytes` (their line information): it must outlive them.
bool dump_top(lua_State* L, std::string* bytes, std::vector<Proto>* out) {
    if (lua_dump(L, collect, bytes) != 0) {
        return false;
    }
    return DumpReader(*bytes).read(out);
}

// The opcode of instruction `at` of the first nested function of `probe`.
int probe_op(lua_State* L, const char* probe, size_t at) {
    if (luaL_loadbuffer(L, probe, std::strlen(probe), "=probe") != 0) {
        lua_pop(L, 1);
        return -1;
    }
    std::string bytes;
    std::vector<Proto> protos;
    bool ok = dump_top(L, &bytes, &protos);
    lua_pop(L, 1);
    // children are written before their parent: the nested function is first
    if (!ok || protos.size() < 2 || protos[0].ins.size() <= at) {
        return -1;
    }
    return static_cast<int>(protos[0].ins[at] & 0xff);
}

struct Opcodes {
    int uset[4] = {-1, -1, -1, -1};
    int uget = -1;
    int tset[3] = {-1, -1, -1};

    bool learn(lua_State* L) {
        uset[0] = probe_op(L, "local u; return function(a) u = a end", 0);
        uset[1] = probe_op(L, "local u; return function() u = 's' end", 0);
        uset[2] = probe_op(L, "local u; return function() u = 1 end", 0);
        uset[3] = probe_op(L, "local u; return function() u = true end", 0);
        uget = probe_op(L, "local u; return function() return u end", 0);
        tset[0] = probe_op(L, "local u = {}; return function(k, x) u[k] = x end", 1);
        tset[1] = probe_op(L, "local u = {}; return function(x) u.k = x end", 1);
        tset[2] = probe_op(L, "local u = {}; return function(x) u[1] = x end", 1);
        for (int op : {uset[0], uset[1], uset[2], uset[3], uget, tset[0], tset[1], tset[2]}) {
            if (op < 0) {
                return false;
            }
        }
        return true;
    }

    [[nodiscard]] bool is_uset(int op) const {
        return op == uset[0] || op == uset[1] || op == uset[2] || op == uset[3];
    }
    [[nodiscard]] bool is_tset(int op) const {
        return op == tset[0] || op == tset[1] || op == tset[2];
    }
};

}  // namespace

bool check_no_kept_state(lua_State* L, KeptState* found) {
    Opcodes ops;
    std::string bytes;
    std::vector<Proto> protos;
    if (!lua_checkstack(L, 4) || !ops.learn(L) || !dump_top(L, &bytes, &protos)) {
        found->line = 0;
        found->reason = "cannot read the compiled file to check it keeps no state";
        return false;
    }
    for (size_t f = 0; f < protos.size(); ++f) {
        const Proto& pt = protos[f];
        bool from_upvalue[256] = {};
        for (size_t i = 0; i < pt.ins.size(); ++i) {
            uint32_t ins = pt.ins[i];
            int op = static_cast<int>(ins & 0xff);
            unsigned a = (ins >> 8) & 0xff;
            unsigned b = ins >> 24;
            unsigned d = ins >> 16;
            if (ops.is_uset(op) && is_file_local(protos, static_cast<int>(f), a)) {
                found->line = pt.line_of(i);
                found->reason =
                    "a function assigns a local of the file; that value would outlive this "
                    "visitor (rules keep no state: use locals inside the function)";
                return false;
            }
            if (ops.is_tset(op)) {
                if (from_upvalue[b]) {
                    found->line = pt.line_of(i);
                    found->reason =
                        "a function stores into a table held in a local of the file; it would "
                        "keep what one visitor left for the next (rules keep no state: fill "
                        "such tables at the top of the file, or use a local table)";
                    return false;
                }
                continue;  // A is the value stored, not a destination
            }
            from_upvalue[a] = op == ops.uget && is_file_local(protos, static_cast<int>(f), d);
        }
    }
    return true;
}

}  // namespace tailor
