/*
 * Conformance of the PMD decoder with Polar's own SDK unit tests: the frames and the values
 * Polar's tests assert, gathered in ../shared/reference/polar_pmd/vectors.json (see its
 * README). Those bytes are Polar's and are not copied into this project: the test reads them
 * from the shared folder when it is there and skips with a message when it is not (a user's
 * clone has no ../shared).
 *
 * Every vector kind is checked the way its README says: frames (sample count, asserted
 * samples in the SDK's units, exact float32 bits, time stamps, |value| bounds), offline
 * recordings (frames decoded in order, each with the previous frame's time), delta payloads
 * (including the truncated one: 43 whole samples, then an error), reference samples, the time
 * stamp function with its error cases, frame headers, and the previous-time bookkeeping.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "pmd_decode.h"
#include "testutil.h"

static cJSON *vectors;

static uint8_t *unhex(const char *h, size_t *n) {
  size_t len = strlen(h);
  uint8_t *b = malloc(len / 2 + 1);
  *n = 0;
  for (size_t i = 0; i + 1 < len; i += 2) {
    unsigned v;
    sscanf(h + i, "%2x", &v);
    b[(*n)++] = (uint8_t)v;
  }
  return b;
}

static uint32_t hexu32(const cJSON *j) { return (uint32_t)strtoul(j->valuestring, NULL, 16); }

static const char *str(const cJSON *o, const char *k) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(j) ? j->valuestring : NULL;
}
static double num(const cJSON *o, const char *k, double dflt) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(j) ? j->valuedouble : dflt;
}
/* cJSON keeps numbers as doubles, which would turn 2^63-1 into 2^63 and hide exactly the
 * mistake the vectors test for. So before parsing, every integer literal of 16 or more digits
 * outside a string is put in quotes, and read back here with strtoull. */
static char *quote_long_integers(const char *in) {
  size_t n = strlen(in);
  char *out = malloc(2 * n + 1), *o = out;
  int in_string = 0;
  for (size_t i = 0; i < n;) {
    char c = in[i];
    if (in_string) {
      *o++ = c;
      if (c == '\\' && i + 1 < n) *o++ = in[++i];
      else if (c == '"') in_string = 0;
      i++;
      continue;
    }
    if (c == '"') in_string = 1;
    size_t d = i;
    while (d < n && in[d] >= '0' && in[d] <= '9') d++;
    int starts = i == 0 || !((in[i - 1] >= '0' && in[i - 1] <= '9') || in[i - 1] == '.' || in[i - 1] == '-' || in[i - 1] == 'e' || in[i - 1] == 'E' || in[i - 1] == '+');
    if (d - i >= 16 && starts && (d == n || (in[d] != '.' && in[d] != 'e' && in[d] != 'E'))) {
      *o++ = '"';
      memcpy(o, in + i, d - i), o += d - i;
      *o++ = '"';
      i = d;
      continue;
    }
    *o++ = c;
    i++;
  }
  *o = 0;
  return out;
}

static uint64_t u64(const cJSON *j) {
  if (cJSON_IsString(j)) return strtoull(j->valuestring, NULL, 10);
  return cJSON_IsNumber(j) ? (uint64_t)j->valuedouble : 0;
}

static float factor_of(const cJSON *params) {
  const char *bits = str(params, "factor_f32_bits");
  if (bits) {
    uint32_t u = (uint32_t)strtoul(bits, NULL, 16);
    float f;
    memcpy(&f, &u, 4);
    return f;
  }
  return (float)num(params, "factor", 1.0);
}

/* expected "samples" (list or {"index": [...]}) against decoded SDK values or raw ints */
static void check_samples(const char *id, const cJSON *samples, const float (*vals)[3],
                          const int32_t *ints, int channels, long n) {
  const cJSON *e;
  cJSON_ArrayForEach(e, samples) {
    long idx = cJSON_IsArray(samples) ? -1 : atol(e->string);
    if (idx < 0) {
      idx = 0;
      for (const cJSON *k = samples->child; k != e; k = k->next) idx++;
    }
    if (idx >= n) fail_msg("%s: sample %ld asserted, only %ld decoded", id, idx, n);
    int c = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, e) {
      double got = vals ? vals[idx][c] : ints[idx * channels + c];
      if (got != x->valuedouble) fail_msg("%s: sample %ld channel %d = %.9g, Polar asserts %.9g", id, idx, c, got, x->valuedouble);
      c++;
    }
  }
}

static void check_bits(const char *id, const cJSON *bits, const uint32_t *words, long n) {
  const cJSON *e;
  long pos = 0;
  cJSON_ArrayForEach(e, bits) {
    long idx = cJSON_IsArray(bits) ? pos++ : atol(e->string);
    assert_true(idx < n);
    int c = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, e) {
      if (words[idx * 3 + c] != hexu32(x))
        fail_msg("%s: sample %ld channel %d bits %08X, Polar asserts %s", id, idx, c, words[idx * 3 + c], x->valuestring);
      c++;
    }
  }
}

static void check_times(const char *id, const cJSON *times, const uint64_t *t, long n) {
  const cJSON *e;
  long pos = 0;
  cJSON_ArrayForEach(e, times) {
    long idx = cJSON_IsArray(times) ? pos++ : (strcmp(e->string, "last") == 0 ? n - 1 : atol(e->string));
    assert_true(idx < n);
    if (t[idx] != u64(e)) fail_msg("%s: time %ld = %llu, Polar asserts %llu", id, idx, (unsigned long long)t[idx], (unsigned long long)u64(e));
  }
}

/* Decode one notification as the SDK would, given the previous time of its stream. */
static long decode_frame(const char *id, const uint8_t *b, size_t nb, float factor, double rate,
                         uint64_t prev, float (*vals)[3], uint32_t *words, uint64_t *times, size_t max) {
  cm_pmd_frame f;
  if (cm_pmd_frame_parse(b, nb, &f) < 0) fail_msg("%s: %s", id, cm_error());
  cm_pmd_value *v = malloc(max * sizeof *v);
  long n = cm_pmd_decode_values(&f, factor, v, max);
  if (n < 0) fail_msg("%s: %s", id, cm_error());
  for (long i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) {
      vals[i][c] = v[i].sdk[c];
      memcpy(&words[i * 3 + c], &v[i].sdk[c], 4);
    }
  free(v);
  if (cm_pmd_sample_times(prev, f.t_sensor_ns, (size_t)n, rate, times) < 0) fail_msg("%s: %s", id, cm_error());
  return n;
}

static void run_frame(const cJSON *vec, const char *id) {
  const cJSON *params = cJSON_GetObjectItem(vec, "params"), *exp = cJSON_GetObjectItem(vec, "expected");
  size_t nb;
  uint8_t *b = unhex(str(vec, "bytes_hex"), &nb);
  enum { MAX = 4096 };
  float(*vals)[3] = malloc(MAX * sizeof *vals);
  uint32_t *words = malloc(MAX * 3 * sizeof *words);
  uint64_t *times = malloc(MAX * sizeof *times);
  long n = decode_frame(id, b, nb, factor_of(params), num(params, "sample_rate_hz", 0),
                        u64(cJSON_GetObjectItem(params, "previous_frame_timestamp_ns")), vals, words, times, MAX);
  const cJSON *j;
  if ((j = cJSON_GetObjectItem(exp, "sample_count"))) assert_int_equal(n, j->valueint);
  if ((j = cJSON_GetObjectItem(exp, "samples"))) check_samples(id, j, (const float(*)[3])vals, NULL, 3, n);
  if ((j = cJSON_GetObjectItem(exp, "samples_f32_bits"))) check_bits(id, j, words, n);
  if ((j = cJSON_GetObjectItem(exp, "timestamps_ns"))) check_times(id, j, times, n);
  if ((j = cJSON_GetObjectItem(exp, "all_samples_abs_le")))
    for (long i = 0; i < n; i++)
      for (int c = 0; c < 3; c++)
        if (vals[i][c] > j->valuedouble || vals[i][c] < -j->valuedouble) fail_msg("%s: |sample %ld| > %g", id, i, j->valuedouble);
  if ((j = cJSON_GetObjectItem(exp, "raw_reference_and_first_delta"))) {
    cm_pmd_frame f;
    cm_pmd_frame_parse(b, nb, &f);
    int32_t *raw = malloc(MAX * 3 * sizeof *raw);
    size_t got;
    assert_int_equal(cm_pmd_unpack_delta(f.payload, f.n_payload, 3, 16, raw, MAX, &got), 0);
    check_samples(id, j, NULL, raw, 3, (long)got);
    free(raw);
  }
  free(b), free(vals), free(words), free(times);
}

static void run_offline(const cJSON *vec, const char *id) {
  const cJSON *params = cJSON_GetObjectItem(vec, "params"), *exp = cJSON_GetObjectItem(vec, "expected");
  enum { MAX = 8192 };
  float(*vals)[3] = malloc(MAX * sizeof *vals);
  uint32_t *words = malloc(MAX * 3 * sizeof *words);
  uint64_t *times = malloc(MAX * sizeof *times);
  long total = 0;
  cm_pmd_prev_times prev;
  cm_pmd_prev_reset(&prev);
  const cJSON *fh;
  cJSON_ArrayForEach(fh, cJSON_GetObjectItem(vec, "frames_hex")) {
    size_t nb;
    uint8_t *b = unhex(fh->valuestring, &nb);
    cm_pmd_frame f;
    assert_int_equal(cm_pmd_frame_parse(b, nb, &f), 0);
    uint64_t p = cm_pmd_prev_swap(&prev, &f);
    total += decode_frame(id, b, nb, factor_of(params), num(params, "sample_rate_hz", 0), p,
                          vals + total, words + total * 3, times + total, MAX - total);
    free(b);
  }
  const cJSON *j;
  if ((j = cJSON_GetObjectItem(exp, "samples"))) check_samples(id, j, (const float(*)[3])vals, NULL, 3, total);
  if ((j = cJSON_GetObjectItem(exp, "samples_f32_bits"))) check_bits(id, j, words, total);
  if ((j = cJSON_GetObjectItem(exp, "timestamps_ns"))) check_times(id, j, times, total);
  print_message("  %s: %ld samples\n", id, total);
  free(vals), free(words), free(times);
}

static void run_payload(const cJSON *vec, const char *id, int ref_only) {
  const cJSON *params = cJSON_GetObjectItem(vec, "params"), *exp = cJSON_GetObjectItem(vec, "expected");
  size_t nb;
  uint8_t *b = unhex(str(vec, "bytes_hex"), &nb);
  int ch = (int)num(params, "channels", 3), bits = (int)num(params, "resolution_bits", 16);
  enum { MAX = 4096 };
  int32_t *raw = malloc(MAX * ch * sizeof *raw);
  size_t got;
  int rc = cm_pmd_unpack_delta(b, ref_only ? (size_t)ch * bits / 8 : nb, ch, bits, raw, MAX, &got);
  const cJSON *j;
  if (cJSON_IsTrue(cJSON_GetObjectItem(exp, "truncated"))) {
    assert_int_equal(rc, -1);
    assert_int_equal(got, (int)num(exp, "complete_samples_before_truncation", -1));
  } else {
    if (rc < 0) fail_msg("%s: %s", id, cm_error());
  }
  if ((j = cJSON_GetObjectItem(exp, "sample_count"))) assert_int_equal(got, j->valueint);
  if ((j = cJSON_GetObjectItem(exp, "samples"))) check_samples(id, j, NULL, raw, ch, (long)got);
  if ((j = cJSON_GetObjectItem(exp, "samples_u32_bits"))) check_bits(id, j, (const uint32_t *)raw, (long)got);
  if ((j = cJSON_GetObjectItem(exp, "reference_sample"))) {
    int c = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, j) assert_int_equal(raw[c++], x->valueint);
  }
  if ((j = cJSON_GetObjectItem(exp, "reference_sample_u32_bits"))) {
    int c = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, j) assert_true((uint32_t)raw[c++] == hexu32(x));
  }
  free(b), free(raw);
}

static void run_timestamps(const cJSON *vec, const char *id) {
  const cJSON *params = cJSON_GetObjectItem(vec, "params"), *exp = cJSON_GetObjectItem(vec, "expected");
  size_t n = (size_t)num(params, "sample_count", 0);
  uint64_t *t = malloc((n + 1) * sizeof *t);
  int rc = cm_pmd_sample_times(u64(cJSON_GetObjectItem(params, "previous_frame_timestamp_ns")),
                               u64(cJSON_GetObjectItem(params, "frame_timestamp_ns")), n,
                               num(params, "sample_rate_hz", 0), t);
  if (str(exp, "error")) {
    if (rc == 0) fail_msg("%s: Polar expects %s, decoder accepted", id, str(exp, "error"));
  } else {
    if (rc < 0) fail_msg("%s: %s", id, cm_error());
    check_times(id, cJSON_GetObjectItem(exp, "timestamps_ns"), t, (long)n);
  }
  free(t);
}

static void run_header(const cJSON *vec, const char *id) {
  const cJSON *exp = cJSON_GetObjectItem(vec, "expected");
  size_t nb;
  uint8_t *b = unhex(str(vec, "bytes_hex"), &nb);
  cm_pmd_frame f;
  int rc = cm_pmd_frame_parse(b, nb, &f);
  if (str(exp, "error")) {
    assert_int_equal(rc, -1);
  } else {
    assert_int_equal(rc, 0);
    assert_int_equal(f.measurement, (int)num(exp, "measurement_type", -1));
    assert_true(f.t_sensor_ns == u64(cJSON_GetObjectItem(exp, "timestamp_ns")));
    assert_int_equal(f.frame_type, (int)num(exp, "frame_type", -1));
    assert_int_equal(f.compressed, cJSON_IsTrue(cJSON_GetObjectItem(exp, "compressed")));
    size_t np;
    uint8_t *p = unhex(str(exp, "payload_hex"), &np);
    assert_int_equal(f.n_payload, np);
    assert_memory_equal(f.payload, p, np);
    free(p);
  }
  free(b);
}

static void run_sequence(const cJSON *vec, const char *id) {
  const cJSON *exp = cJSON_GetObjectItem(vec, "expected");
  cm_pmd_prev_times prev;
  cm_pmd_prev_reset(&prev);
  const cJSON *acc = cJSON_GetObjectItem(exp, "acc_frames"), *fh;
  const cJSON *want = acc ? acc->child : NULL;
  cm_pmd_frame f;
  cJSON_ArrayForEach(fh, cJSON_GetObjectItem(vec, "frames_hex")) {
    size_t nb;
    uint8_t *b = unhex(fh->valuestring, &nb);
    assert_int_equal(cm_pmd_frame_parse(b, nb, &f), 0);
    if (acc) {
      if (f.measurement == CM_PMD_ACC) {
        uint64_t p = cm_pmd_prev_swap(&prev, &f);
        assert_true(f.t_sensor_ns == u64(cJSON_GetObjectItem(want, "timestamp_ns")));
        assert_true(p == u64(cJSON_GetObjectItem(want, "previous_frame_timestamp_ns")));
        want = want->next;
      }
    } else {
      assert_true(cm_pmd_prev_get(&prev, &f) == u64(cJSON_GetObjectItem(exp, "previous_for_acc_type3_before")));
      cm_pmd_prev_swap(&prev, &f);
      assert_true(cm_pmd_prev_get(&prev, &f) == u64(cJSON_GetObjectItem(exp, "previous_for_acc_type3_after_frame")));
      cm_pmd_prev_reset(&prev);
      assert_true(cm_pmd_prev_get(&prev, &f) == u64(cJSON_GetObjectItem(exp, "previous_for_acc_type3_after_reset")));
    }
    free(b);
  }
  if (acc) assert_null(want);
}

static void test_polar_vectors(void **st) {
  if (!vectors) skip();
  int counts = 0;
  const cJSON *vec;
  cJSON_ArrayForEach(vec, vectors) {
    const char *kind = str(vec, "kind"), *id = str(vec, "id");
    if (!strcmp(kind, "frame")) run_frame(vec, id);
    else if (!strcmp(kind, "offline_recording")) run_offline(vec, id);
    else if (!strcmp(kind, "delta_payload")) run_payload(vec, id, 0);
    else if (!strcmp(kind, "ref_sample")) run_payload(vec, id, 1);
    else if (!strcmp(kind, "timestamps")) run_timestamps(vec, id);
    else if (!strcmp(kind, "frame_header")) run_header(vec, id);
    else if (!strcmp(kind, "client_sequence")) run_sequence(vec, id);
    else fail_msg("%s: unknown vector kind %s", id, kind);
    counts++;
  }
  print_message("Polar SDK vectors: %d of %d pass\n", counts, cJSON_GetArraySize(vectors));
  assert_int_equal(counts, cJSON_GetArraySize(vectors));
}

int main(void) {
  const char *shared = tu_shared_dir();
  char path[4096];
  if (shared) {
    snprintf(path, sizeof path, "%s/reference/polar_pmd/vectors.json", shared);
    char *text = tu_read_file(path, NULL);
    if (text) {
      char *quoted = quote_long_integers(text);
      vectors = cJSON_Parse(quoted);
      free(quoted);
    }
    free(text);
  }
  if (!vectors)
    printf("SKIP: Polar PMD vectors not found (../shared/reference/polar_pmd/vectors.json is only "
           "in the development checkout)\n");
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_polar_vectors)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  cJSON_Delete(vectors);
  return rc;
}
