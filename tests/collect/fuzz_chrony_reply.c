/*
 * Fuzz target: chronyd's TRACKING reply parser gets arbitrary bytes (a datagram from whatever
 * answers on the socket). It must refuse or decode without reading past the packet. The first
 * four bytes choose the expected sequence number so that the fuzzer can reach the decoder.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chrony_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  uint32_t seq = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
  cm_chrony_row r;
  /* The reply proper, in a buffer of exactly its size so that ASan sees any over-read. */
  size_t n = size - 4;
  uint8_t *copy = n ? __builtin_malloc(n) : NULL;
  if (n) memcpy(copy, data + 4, n);
  cm_chrony_parse_tracking(copy, n, seq, &r);
  __builtin_free(copy);
  return 0;
}
