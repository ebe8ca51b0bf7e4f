// Tag scanner, block scan: what every instruction set's copy shares (internal to html/).
//
// The classes a `classify` fills for one 64-byte block, and the tables of
// the names we act on that the block scan reads (tag_scanner_simd.cpp,
// tag_scanner_simd_avx512.cpp). Plain data only, so including it outside
// the target pragmas compiles nothing for a wider instruction set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tailor/html/tag_scanner.h"

namespace tailor::tag_scan::detail {

// One 64-byte block's classes; bit i is byte i. opens, candidates and odd
// (and the unions with them) look at the bytes after byte i (up to
// kReadAhead past the block).
struct Block {
    uint64_t lt;          // '<'
    uint64_t gt;          // '>'
    uint64_t dq;          // '"'
    uint64_t eq;          // '='
    uint64_t ws;          // HTML whitespace
    uint64_t name;        // none of < > " ' = / and whitespace: an attribute name byte
    uint64_t opens;       // '<' then a letter, or "</" then a letter
    uint64_t candidates;  // of those, the ones followed by the first letters of a start tag
                          // we act on, or by those of an end tag of interest
    uint64_t odd;         // '\'', or '=' then whitespace: what the model rejects in a tag
    // Unions the judge reads (separate fields, so AVX-512 forms them in mask
    // registers and fewer masks leave them):
    uint64_t marks;      // opens | gt: what opens or closes a tag
    uint64_t tag_stops;  // gt | odd | candidates: what needs a look in a tag
};
inline constexpr size_t kReadAhead = 3;

// For the first letter of a name (lower case), the second letters (bit
// n: 'a' + n) of the names we act on: start tags, and the end tags
// </tailor-slot and </body. The scalar check of a candidate.
struct SecondLetters {
    uint32_t start[256] = {};
    uint32_t end[256] = {};
    constexpr SecondLetters() {
        add(start, kSlotTag);
        for (std::string_view raw : kRawNames) {
            add(start, raw);
        }
        add(end, kSlotTag);
        add(end, kBodyTag);
    }
    static constexpr void add(uint32_t* table, std::string_view name) {
        table[static_cast<unsigned char>(name[0])] |= 1u << (name[1] - 'a');
    }
};
inline constexpr SecondLetters kSecondLetters;
inline constexpr const uint32_t* kStartSecond = kSecondLetters.start;
inline constexpr const uint32_t* kEndSecond = kSecondLetters.end;

// Byte-shuffle tables, 16 entries repeated per 16-byte lane: a byte is in a
// set if it equals the set's entry at its low nibble (the byte shuffle
// gives 0 for bytes >= 0x80). Unused entries are 0, which no byte tested
// against them equals (only bytes >= 0x20 are tested, or those whose low
// nibble is not 0). For the two-letter check of start-tag names, each
// first letter gets a bit; a second letter's entry holds the bits of the
// first letters it follows in some name.
struct ShuffleTables {
    alignas(64) char ws[64] = {};          // ' ' \t \n \f \r
    alignas(64) char first_char[64] = {};  // first letters of start-tag names we act on
    alignas(64) char first_bit[64] = {};
    alignas(64) char second_char[64] = {};  // their second letters
    alignas(64) char second_bits[64] = {};
    bool clash = false;  // two bytes of one set share a low nibble
    constexpr ShuffleTables() {
        for (char c : {' ', '\t', '\n', '\f', '\r'}) {
            put(ws, c);
        }
        int bits = 0;
        add_name(kSlotTag, bits);
        for (std::string_view raw : kRawNames) {
            add_name(raw, bits);
        }
    }
    constexpr void put(char* table, char c) {
        const int i = c & 15;
        clash = clash || (table[i] != 0 && table[i] != c);
        for (int lane = 0; lane < 64; lane += 16) {
            table[lane + i] = c;
        }
    }
    constexpr void add_name(std::string_view name, int& bits) {
        const int f = name[0] & 15;
        if (first_char[f] == 0) {
            put(first_char, name[0]);
            for (int lane = 0; lane < 64; lane += 16) {
                first_bit[lane + f] = static_cast<char>(1 << bits);
            }
            ++bits;
        }
        put(second_char, name[1]);
        for (int lane = 0; lane < 64; lane += 16) {
            second_bits[lane + (name[1] & 15)] |= first_bit[f];
        }
    }
};
inline constexpr ShuffleTables kShuffle;
static_assert(!kShuffle.clash, "a byte-shuffle set needs distinct low nibbles");

}  // namespace tailor::tag_scan::detail
