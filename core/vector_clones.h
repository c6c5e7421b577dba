// EDGEFL_VECTOR_CLONES marks a hot loop written with GCC vector extensions.
// On x86-64 GCC builds two copies, one for AVX2 and one for the baseline
// (SSE2), and the loader picks the one the CPU runs (an ifunc), so the same
// binary is fast on current CPUs and still runs everywhere. Elsewhere (NEON
// on aarch64) the one build is already vectorised. The clones compute
// identical results: they differ in instructions, never in arithmetic.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGEFL_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EDGEFL_VECTOR_CLONES
#endif
