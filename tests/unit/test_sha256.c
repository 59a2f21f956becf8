/*
 * lib/sha256.c against FIPS 180-4's examples ("abc", the 448-bit message,
 * one million 'a'; the digests below are the standard's, and sha256sum
 * prints the same), fed whole and in pieces that cross every block
 * boundary, and sha256_file_hex against sha256sum itself on a file whose
 * length is no multiple of anything.
 */
#include "lib/sha256.h"
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *msg;
    size_t repeat; /* the message is msg this many times */
    const char *hex;
} vectors[] = {
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
};

/* The message of a vector, written out. */
static char *message(size_t i, size_t *len)
{
    size_t n = strlen(vectors[i].msg);
    *len = n * vectors[i].repeat;
    char *m = malloc(*len + 1);
    if (m == NULL)
        abort();
    for (size_t r = 0; r < vectors[i].repeat; r++)
        memcpy(m + r * n, vectors[i].msg, n);
    return m;
}

/* Digest of m fed in pieces of `step` bytes. */
static void hex_in_pieces(const char *m, size_t len, size_t step, char out[SHA256_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    struct sha256 c;
    unsigned char d[SHA256_DIGEST_LEN];
    sha256_init(&c);
    for (size_t off = 0; off < len; off += step)
        sha256_update(&c, m + off, len - off < step ? len - off : step);
    sha256_final(&c, d);
    for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[SHA256_HEX_LEN] = '\0';
}

static void test_vectors(void)
{
    char hex[SHA256_HEX_LEN + 1];
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t len;
        char *m = message(i, &len);
        sha256_hex(m, len, hex);
        CHECKF(strcmp(hex, vectors[i].hex) == 0, "vector %zu whole: %s", i, hex);
        static const size_t steps[] = {1, 3, 55, 56, 63, 64, 65, 1000};
        for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
            if (len > 100000 && steps[s] < 55)
                continue; /* a million single-byte calls prove nothing more */
            hex_in_pieces(m, len, steps[s], hex);
            CHECKF(strcmp(hex, vectors[i].hex) == 0, "vector %zu in pieces of %zu: %s", i, steps[s],
                   hex);
        }
        free(m);
    }
}

/* Every length around the padding's edge (55, 56 and 64 bytes need one
 * or two final blocks): one call and byte by byte agree. */
static void test_padding_edges(void)
{
    char m[200], a[SHA256_HEX_LEN + 1], b[SHA256_HEX_LEN + 1];
    for (size_t i = 0; i < sizeof(m); i++)
        m[i] = (char)(i * 7 + 1);
    for (size_t len = 0; len <= sizeof(m); len++) {
        sha256_hex(m, len, a);
        hex_in_pieces(m, len, 1, b);
        CHECKF(strcmp(a, b) == 0, "length %zu: whole %s, bytewise %s", len, a, b);
    }
}

/* sha256_file_hex and sha256sum on the same file. */
static void test_file(void)
{
    char *dir = tl_tmpdir("sha256");
    char path[512], cmd[600], hex[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1] = "";
    snprintf(path, sizeof(path), "%s/data", dir);
    FILE *f = fopen(path, "wb");
    if (!CHECKF(f != NULL, "%s: %s", path, strerror(errno)))
        return;
    unsigned x = 12345;
    for (size_t i = 0; i < 200003; i++) { /* more than one read buffer, odd length */
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16) & 0xff, f);
    }
    fclose(f);
    CHECK(sha256_file_hex(path, hex) == 0);
    snprintf(cmd, sizeof(cmd), "sha256sum '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    if (p != NULL) {
        if (fscanf(p, "%64s", want) != 1)
            want[0] = '\0';
        pclose(p);
    }
    if (want[0] == '\0')
        printf("sha256sum not available: the file's digest is only computed\n");
    else
        CHECKF(strcmp(hex, want) == 0, "file: %s, sha256sum says %s", hex, want);
    snprintf(path, sizeof(path), "%s/absent", dir);
    errno = 0;
    CHECK(sha256_file_hex(path, hex) == -1 && errno == ENOENT);
    tl_tmpdir_remove(dir);
}

int main(void)
{
    /* with the CPU's SHA extensions where it has them, then without */
    for (int pass = 0; pass < 2; pass++) {
        sha256_use_cpu_extensions(pass == 0);
        test_vectors();
        test_padding_edges();
        test_file();
    }
    return tl_done();
}
