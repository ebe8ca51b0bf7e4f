# msgpack_codec: the MessagePack subset a profile and an event need, to check
# what Tailor wrote and to build profiles when tailorctl cannot.

import struct


def msgpack_unpack(data):
    """The value in `data` (maps, arrays, str, bin, ints, floats, nil, bools)."""
    value, pos = _mp(data, 0)
    if pos != len(data):
        raise ValueError("trailing bytes")
    return value


def _mp(b, i):
    t = b[i]
    i += 1
    if t <= 0x7f:
        return t, i
    if 0x80 <= t <= 0x8f:
        return _mp_map(b, i, t & 0x0f)
    if 0x90 <= t <= 0x9f:
        return _mp_arr(b, i, t & 0x0f)
    if 0xa0 <= t <= 0xbf:
        n = t & 0x1f
        return b[i:i + n].decode(), i + n
    if t >= 0xe0:
        return t - 0x100, i
    if t == 0xc0:
        return None, i
    if t in (0xc2, 0xc3):
        return t == 0xc3, i
    fixed = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h",
             0xd2: ">i", 0xd3: ">q", 0xca: ">f", 0xcb: ">d"}
    if t in fixed:
        f = fixed[t]
        n = struct.calcsize(f)
        return struct.unpack(f, b[i:i + n])[0], i + n
    lens = {0xd9: ">B", 0xda: ">H", 0xdb: ">I", 0xc4: ">B", 0xc5: ">H", 0xc6: ">I"}
    if t in lens:
        f = lens[t]
        k = struct.calcsize(f)
        n = struct.unpack(f, b[i:i + k])[0]
        raw = b[i + k:i + k + n]
        return (raw.decode() if t in (0xd9, 0xda, 0xdb) else raw), i + k + n
    if t in (0xdc, 0xdd):
        k = 2 if t == 0xdc else 4
        return _mp_arr(b, i + k, int.from_bytes(b[i:i + k], "big"))
    if t in (0xde, 0xdf):
        k = 2 if t == 0xde else 4
        return _mp_map(b, i + k, int.from_bytes(b[i:i + k], "big"))
    raise ValueError("msgpack type 0x%02x" % t)


def _mp_arr(b, i, n):
    out = []
    for _ in range(n):
        v, i = _mp(b, i)
        out.append(v)
    return out, i


def _mp_map(b, i, n):
    out = {}
    for _ in range(n):
        k, i = _mp(b, i)
        v, i = _mp(b, i)
        out[k] = v
    return out, i


def msgpack_pack(obj):
    if obj is None:
        return b"\xc0"
    if obj is True:
        return b"\xc3"
    if obj is False:
        return b"\xc2"
    if isinstance(obj, int):
        if 0 <= obj < 0x80:
            return struct.pack("B", obj)
        if -32 <= obj < 0:
            return struct.pack("b", obj)
        if 0 <= obj <= 0xff:
            return b"\xcc" + struct.pack(">B", obj)
        if 0 <= obj <= 0xffff:
            return b"\xcd" + struct.pack(">H", obj)
        if 0 <= obj <= 0xffffffff:
            return b"\xce" + struct.pack(">I", obj)
        if obj >= 0:
            return b"\xcf" + struct.pack(">Q", obj)
        if obj >= -0x80:
            return b"\xd0" + struct.pack(">b", obj)
        if obj >= -0x8000:
            return b"\xd1" + struct.pack(">h", obj)
        if obj >= -0x80000000:
            return b"\xd2" + struct.pack(">i", obj)
        return b"\xd3" + struct.pack(">q", obj)
    if isinstance(obj, float):
        return b"\xcb" + struct.pack(">d", obj)
    if isinstance(obj, str):
        b = obj.encode()
        n = len(b)
        if n < 32:
            return struct.pack("B", 0xa0 | n) + b
        if n <= 0xff:
            return b"\xd9" + struct.pack(">B", n) + b
        if n <= 0xffff:
            return b"\xda" + struct.pack(">H", n) + b
        return b"\xdb" + struct.pack(">I", n) + b
    if isinstance(obj, (bytes, bytearray)):
        n = len(obj)
        if n <= 0xff:
            return b"\xc4" + struct.pack(">B", n) + bytes(obj)
        if n <= 0xffff:
            return b"\xc5" + struct.pack(">H", n) + bytes(obj)
        return b"\xc6" + struct.pack(">I", n) + bytes(obj)
    if isinstance(obj, (list, tuple)):
        n = len(obj)
        head = (struct.pack("B", 0x90 | n) if n < 16 else
                b"\xdc" + struct.pack(">H", n) if n <= 0xffff else b"\xdd" + struct.pack(">I", n))
        return head + b"".join(msgpack_pack(x) for x in obj)
    if isinstance(obj, dict):
        n = len(obj)
        head = (struct.pack("B", 0x80 | n) if n < 16 else
                b"\xde" + struct.pack(">H", n) if n <= 0xffff else b"\xdf" + struct.pack(">I", n))
        return head + b"".join(msgpack_pack(k) + msgpack_pack(v) for k, v in obj.items())
    raise TypeError("cannot pack %r" % type(obj))
