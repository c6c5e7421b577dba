// Divergence: whether a run has diverged after a round. The loss test is
// relative to the initial loss, but never below run.divergence_floor, so a
// run that starts at (or near) the optimum is not "diverged" for rising to
// its noise floor. Updates with |v| >= 2^40 are refused, and an honest run
// sends one only once it has blown up. Its nodes then overflow a few at a
// time, rounds lack their quorum and the model stays where they overflow.
// Two tests tell that from a hostile node: the coordinator's own gradient at
// the model explains the overflow (max|grad f| times the compressor's
// largest amplification within a factor 64 of 2^40, the margin for noise),
// or most nodes have sent overflowing updates. Pure function.
#pragma once

#include "experiment/experiment_config.h"
#include "runfiles/run_state.h"

namespace edgefl {

// Why the run has diverged after the round `m`, or nullptr.
// `overflow_this_round`: an update of this round was too large to add.
const char* DivergenceOf(const ExperimentConfig& config, const RunState& state, const RoundMetrics& m,
                         bool overflow_this_round);

}  // namespace edgefl
