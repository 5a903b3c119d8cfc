/* sha256.c: SHA-256 against the NIST vectors, whole and in pieces. */
#include <string.h>

#include "wt.h"
#include "tap.h"

static const char *
hex_of(const unsigned char sum[WT_SHA256_LEN])
{
	static char hex[WT_SHA256_HEXLEN + 1];

	wt_sha256_hex(sum, hex);
	return hex;
}

/* The sum of s given in pieces of step bytes (0: at once). */
static const char *
sum_of(const char *s, size_t len, size_t step)
{
	struct wt_sha256 c;
	unsigned char out[WT_SHA256_LEN];
	size_t i, k;

	if (!step) {
		wt_sha256(s, len, out);
		return hex_of(out);
	}
	wt_sha256_init(&c);
	for (i = 0; i < len; i += k) {
		k = len - i < step ? len - i : step;
		wt_sha256_update(&c, s + i, k);
	}
	wt_sha256_final(&c, out);
	return hex_of(out);
}

int
main(void)
{
	static const struct {
		const char *msg, *sum;
	} v[] = {
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	static const size_t steps[] = { 0, 1, 3, 63, 64, 65 };
	const char *million = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	struct wt_sha256 c;
	unsigned char out[WT_SHA256_LEN];
	char *a;
	size_t i, k;
	int good;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		good = 1;
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++)
			good &= strcmp(sum_of(v[i].msg, strlen(v[i].msg), steps[k]), v[i].sum) == 0;
		ok(good, "NIST vector %zu (%zu bytes): whole and in pieces of 1, 3, 63, 64, 65",
		   i + 1, strlen(v[i].msg));
		if (!good)
			printf("# got %s\n", sum_of(v[i].msg, strlen(v[i].msg), 0));
	}
	a = wt_xmalloc(1000000);
	memset(a, 'a', 1000000);
	is_str(sum_of(a, 1000000, 0), million, "a million 'a' at once");
	wt_sha256_init(&c);
	for (i = 0; i < 1000; i++)
		wt_sha256_update(&c, a, 1000);
	wt_sha256_final(&c, out);
	is_str(hex_of(out), million, "a million 'a' in pieces of 1000");
	/* Lengths around the padding's boundary: 55, 56, 64 bytes, against each other. */
	for (good = 1, i = 50; i < 130; i++) {
		char whole[WT_SHA256_HEXLEN + 1];

		wt_sha256(a, i, out);
		wt_sha256_hex(out, whole);
		good &= strcmp(sum_of(a, i, 7), whole) == 0;
	}
	ok(good, "lengths 50 to 129: pieces agree with whole");
	free(a);
	return done_testing();
}
