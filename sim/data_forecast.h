// The forecast of a data objective (digits' softmax regression or MLP):
// each path steps the DCSGD (or sign) SDE with the nodes' own minibatch
// noise drawn from their shards (sim/data_sde.h), the round's cohort drawn
// as for the synthetic objectives. PredictLoss calls it.
#pragma once

#include "experiment/experiment_config.h"
#include "sim/participation.h"
#include "sim/sde_predictor.h"

namespace edgefl {

Status PredictData(const ExperimentConfig& config, const PredictOptions& options,
                   const ParticipationModel& participation, Prediction* out);

}  // namespace edgefl
