/*
 * fuzz_token: zf_token_decode on token text as a receiving host may forge
 * it (openzfs/zfs#14153), and zf_token_verify on whatever decodes.  The
 * checks are in token_check.h.  Mutations of the text rarely get past the
 * checksum and zlib: fuzz_token_nvlist reaches the fields behind them.
 *
 * Input: the token text.
 */
#include "token_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);

	fz_check_token(s);
	free(s);
	return 0;
}
