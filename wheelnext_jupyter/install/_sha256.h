/* SHA-256 of two messages at once, for the native unpacker (`_unpack.c`).
 *
 * With the x86 SHA extensions, one message is hashed at the speed the round instruction's
 * latency allows: each round depends on the one before. Two independent messages interleaved
 * instruction by instruction fill the gaps: 2.5 GB/s against 1.4 GB/s for one message on the
 * 2-core machine the install benchmark runs on. Without the extensions (another architecture,
 * an older processor, or switched off with `use_sha_extensions`) both lanes go through
 * OpenSSL, one after the other.
 *
 * A lane is fed whole 64-byte blocks (`lanes_blocks2`, `lanes_blocks1`) and then the rest of
 * its message (fewer than 64 bytes) with `lane_final`, which pads it and writes the digest.
 */

#ifndef WHEELNEXT_SHA256_H
#define WHEELNEXT_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SHA_EXTENSIONS 1
#include <cpuid.h>
#include <immintrin.h>
#endif

typedef struct {
    int extensions;            /* whether this message goes through the extensions */
    uint32_t state[8];
    unsigned long long length; /* bytes fed so far */
    EVP_MD_CTX *ctx;           /* without the extensions */
} lane_hash_t;

/* Whether the extensions are used: detected once, switched off by tests. */
static int sha_extensions = -1;

static int sha_extensions_available(void) {
#ifdef HAVE_SHA_EXTENSIONS
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    /* SSSE3 and SSE4.1 for the byte shuffles and blends. */
    if (!(c & (1u << 9)) || !(c & (1u << 19)))
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b & (1u << 29)) != 0;
#else
    return 0;
#endif
}

static int use_extensions(void) {
    if (sha_extensions < 0)
        sha_extensions = sha_extensions_available();
    return sha_extensions;
}

#ifdef HAVE_SHA_EXTENSIONS
static const uint32_t sha256_initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* The round instructions keep the state as (a, b, e, f) and (c, d, g, h). */
SHA_TARGET static inline void sha_load(const uint32_t state[8], __m128i *abef, __m128i *cdgh) {
    __m128i badc = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0xB1);
    __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(state + 4)), 0x1B);
    *abef = _mm_alignr_epi8(badc, hgfe, 8);
    *cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);
}

SHA_TARGET static inline void sha_store(uint32_t state[8], __m128i abef, __m128i cdgh) {
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)state, _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}

/* Four rounds with message words `w` (big-endian words `k`..`k + 3` of the schedule). */
#define SHA_ROUNDS(abef, cdgh, w, k)                                                              \
    do {                                                                                          \
        __m128i sum_ = _mm_add_epi32((w), _mm_loadu_si128((const __m128i *)(sha256_k + (k))));  \
        (cdgh) = _mm_sha256rnds2_epu32((cdgh), (abef), sum_);                                     \
        (abef) = _mm_sha256rnds2_epu32((abef), (cdgh), _mm_shuffle_epi32(sum_, 0x0E));            \
    } while (0)

/* The next four schedule words from the sixteen before them (w0 oldest). */
#define SHA_SCHEDULE(w0, w1, w2, w3)                                                              \
    _mm_sha256msg2_epu32(                                                                         \
        _mm_add_epi32(_mm_sha256msg1_epu32((w0), (w1)), _mm_alignr_epi8((w3), (w2), 4)), (w3))

#define SHA_LOAD_WORDS(p, offset) \
    _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((p) + (offset))), byte_order)

SHA_TARGET static void sha_blocks1_ext(uint32_t state[8], const unsigned char *p, size_t blocks) {
    const __m128i byte_order = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef, cdgh;
    sha_load(state, &abef, &cdgh);
    for (; blocks > 0; blocks--, p += 64) {
        __m128i abef_before = abef, cdgh_before = cdgh;
        __m128i w0 = SHA_LOAD_WORDS(p, 0), w1 = SHA_LOAD_WORDS(p, 16);
        __m128i w2 = SHA_LOAD_WORDS(p, 32), w3 = SHA_LOAD_WORDS(p, 48);
        SHA_ROUNDS(abef, cdgh, w0, 0);
        SHA_ROUNDS(abef, cdgh, w1, 4);
        SHA_ROUNDS(abef, cdgh, w2, 8);
        SHA_ROUNDS(abef, cdgh, w3, 12);
        for (int k = 16; k < 64; k += 16) {
            w0 = SHA_SCHEDULE(w0, w1, w2, w3);
            SHA_ROUNDS(abef, cdgh, w0, k);
            w1 = SHA_SCHEDULE(w1, w2, w3, w0);
            SHA_ROUNDS(abef, cdgh, w1, k + 4);
            w2 = SHA_SCHEDULE(w2, w3, w0, w1);
            SHA_ROUNDS(abef, cdgh, w2, k + 8);
            w3 = SHA_SCHEDULE(w3, w0, w1, w2);
            SHA_ROUNDS(abef, cdgh, w3, k + 12);
        }
        abef = _mm_add_epi32(abef, abef_before);
        cdgh = _mm_add_epi32(cdgh, cdgh_before);
    }
    sha_store(state, abef, cdgh);
}

/* The same for two messages, their instructions interleaved. */
SHA_TARGET static void sha_blocks2_ext(uint32_t a_state[8], const unsigned char *p,
                                       uint32_t b_state[8], const unsigned char *q,
                                       size_t blocks) {
    const __m128i byte_order = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a_abef, a_cdgh, b_abef, b_cdgh;
    sha_load(a_state, &a_abef, &a_cdgh);
    sha_load(b_state, &b_abef, &b_cdgh);
    for (; blocks > 0; blocks--, p += 64, q += 64) {
        __m128i a_abef_before = a_abef, a_cdgh_before = a_cdgh;
        __m128i b_abef_before = b_abef, b_cdgh_before = b_cdgh;
        __m128i a0 = SHA_LOAD_WORDS(p, 0), b0 = SHA_LOAD_WORDS(q, 0);
        __m128i a1 = SHA_LOAD_WORDS(p, 16), b1 = SHA_LOAD_WORDS(q, 16);
        __m128i a2 = SHA_LOAD_WORDS(p, 32), b2 = SHA_LOAD_WORDS(q, 32);
        __m128i a3 = SHA_LOAD_WORDS(p, 48), b3 = SHA_LOAD_WORDS(q, 48);
        SHA_ROUNDS(a_abef, a_cdgh, a0, 0);
        SHA_ROUNDS(b_abef, b_cdgh, b0, 0);
        SHA_ROUNDS(a_abef, a_cdgh, a1, 4);
        SHA_ROUNDS(b_abef, b_cdgh, b1, 4);
        SHA_ROUNDS(a_abef, a_cdgh, a2, 8);
        SHA_ROUNDS(b_abef, b_cdgh, b2, 8);
        SHA_ROUNDS(a_abef, a_cdgh, a3, 12);
        SHA_ROUNDS(b_abef, b_cdgh, b3, 12);
        for (int k = 16; k < 64; k += 16) {
            a0 = SHA_SCHEDULE(a0, a1, a2, a3);
            b0 = SHA_SCHEDULE(b0, b1, b2, b3);
            SHA_ROUNDS(a_abef, a_cdgh, a0, k);
            SHA_ROUNDS(b_abef, b_cdgh, b0, k);
            a1 = SHA_SCHEDULE(a1, a2, a3, a0);
            b1 = SHA_SCHEDULE(b1, b2, b3, b0);
            SHA_ROUNDS(a_abef, a_cdgh, a1, k + 4);
            SHA_ROUNDS(b_abef, b_cdgh, b1, k + 4);
            a2 = SHA_SCHEDULE(a2, a3, a0, a1);
            b2 = SHA_SCHEDULE(b2, b3, b0, b1);
            SHA_ROUNDS(a_abef, a_cdgh, a2, k + 8);
            SHA_ROUNDS(b_abef, b_cdgh, b2, k + 8);
            a3 = SHA_SCHEDULE(a3, a0, a1, a2);
            b3 = SHA_SCHEDULE(b3, b0, b1, b2);
            SHA_ROUNDS(a_abef, a_cdgh, a3, k + 12);
            SHA_ROUNDS(b_abef, b_cdgh, b3, k + 12);
        }
        a_abef = _mm_add_epi32(a_abef, a_abef_before);
        a_cdgh = _mm_add_epi32(a_cdgh, a_cdgh_before);
        b_abef = _mm_add_epi32(b_abef, b_abef_before);
        b_cdgh = _mm_add_epi32(b_cdgh, b_cdgh_before);
    }
    sha_store(a_state, a_abef, a_cdgh);
    sha_store(b_state, b_abef, b_cdgh);
}
#endif

/* Start a lane's message; 0 on success, -1 when OpenSSL has no SHA-256. */
static int lane_begin(lane_hash_t *lane) {
    lane->length = 0;
    lane->extensions = use_extensions();
#ifdef HAVE_SHA_EXTENSIONS
    if (lane->extensions) {
        memcpy(lane->state, sha256_initial, sizeof(lane->state));
        return 0;
    }
#endif
    if (lane->ctx == NULL)
        lane->ctx = EVP_MD_CTX_new();
    if (lane->ctx == NULL || EVP_DigestInit_ex(lane->ctx, EVP_sha256(), NULL) != 1)
        return -1;
    return 0;
}

static void lanes_blocks1(lane_hash_t *lane, const unsigned char *p, size_t blocks) {
    lane->length += (unsigned long long)blocks * 64;
#ifdef HAVE_SHA_EXTENSIONS
    if (lane->extensions) {
        sha_blocks1_ext(lane->state, p, blocks);
        return;
    }
#endif
    EVP_DigestUpdate(lane->ctx, p, blocks * 64);
}

static void lanes_blocks2(lane_hash_t *a, const unsigned char *p, lane_hash_t *b,
                          const unsigned char *q, size_t blocks) {
#ifdef HAVE_SHA_EXTENSIONS
    if (a->extensions && b->extensions) {
        a->length += (unsigned long long)blocks * 64;
        b->length += (unsigned long long)blocks * 64;
        sha_blocks2_ext(a->state, p, b->state, q, blocks);
        return;
    }
#endif
    lanes_blocks1(a, p, blocks);
    lanes_blocks1(b, q, blocks);
}

/* Feed the last `count` (< 64) bytes of the lane's message and write its digest. */
static void lane_final(lane_hash_t *lane, const unsigned char *rest, size_t count,
                       unsigned char digest[32]) {
#ifdef HAVE_SHA_EXTENSIONS
    if (lane->extensions) {
        unsigned char last[128];
        unsigned long long bits = (lane->length + count) * 8;
        size_t blocks = count < 56 ? 1 : 2;
        memset(last, 0, sizeof(last));
        memcpy(last, rest, count);
        last[count] = 0x80;
        for (int i = 0; i < 8; i++)
            last[blocks * 64 - 1 - (size_t)i] = (unsigned char)(bits >> (8 * i));
        sha_blocks1_ext(lane->state, last, blocks);
        for (int i = 0; i < 8; i++) {
            digest[4 * i] = (unsigned char)(lane->state[i] >> 24);
            digest[4 * i + 1] = (unsigned char)(lane->state[i] >> 16);
            digest[4 * i + 2] = (unsigned char)(lane->state[i] >> 8);
            digest[4 * i + 3] = (unsigned char)lane->state[i];
        }
        return;
    }
#endif
    unsigned int length = 0;
    EVP_DigestUpdate(lane->ctx, rest, count);
    EVP_DigestFinal_ex(lane->ctx, digest, &length);
}

static void lane_free(lane_hash_t *lane) {
    if (lane->ctx != NULL)
        EVP_MD_CTX_free(lane->ctx);
    lane->ctx = NULL;
}

#endif
