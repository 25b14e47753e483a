/*
 * nn_rng: the one random-number source of the training engine, counter-based.
 *
 * Every random number the engine draws (initial weights, dropout masks, batch order) is a pure
 * function of (key, index): u = mix64(key + (index+1) * GOLDEN). Nothing carries state from
 * one draw to the next, so a draw never depends on thread scheduling or on how many numbers
 * were drawn before it, and a run resumed from a checkpoint draws exactly what the
 * uninterrupted run drew. The functions are tiny on purpose: tests/train/make_reference.py
 * reimplements them in numpy so PyTorch starts from the very same weights and masks.
 *
 * mix64 is the finaliser of SplitMix64 (Steele, Lea, Flood 2014).
 */
#ifndef NN_RNG_H
#define NN_RNG_H

#include <stdint.h>

#define NN_GOLDEN 0x9E3779B97F4A7C15ULL

static inline uint64_t nn_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* A key for one purpose: a seed, a purpose tag and up to two counters (layer, step). */
static inline uint64_t nn_key(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b) {
  return nn_mix64(nn_mix64(nn_mix64(seed ^ (tag * NN_GOLDEN)) + a) + b);
}

static inline uint64_t nn_u64(uint64_t key, uint64_t index) {
  return nn_mix64(key + (index + 1) * NN_GOLDEN);
}

/* Uniform in [0, 1) with 24 bits, exactly representable as a float. */
static inline float nn_uniform(uint64_t key, uint64_t index) {
  return (float)(nn_u64(key, index) >> 40) * (1.0f / 16777216.0f);
}

/* Purpose tags. */
enum { NN_TAG_INIT = 1, NN_TAG_DROPOUT = 2, NN_TAG_SHUFFLE = 3, NN_TAG_SPLIT = 4 };

#endif
