// Counts the calls of the global allocation functions, which
// counting_allocator.cc replaces for any test binary that links it (one
// binary of its own: the replacement applies to the whole program). For
// tests that a loop never touches the heap.
#pragma once

namespace edgefl::testing {

// Starts counting from 0.
void StartCountingAllocations();
// Stops counting; returns the allocations since the start.
long StopCountingAllocations();

}  // namespace edgefl::testing
