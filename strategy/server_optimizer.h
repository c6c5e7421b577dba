// ServerOptimizer: turns the round's aggregate (a gradient-like direction
// d_k) and the step rule's eta_k into the model change, with O(d) state of
// its own. Following Reddi et al. 2021, "Adaptive Federated Optimization"
// (ICLR, Algorithm 2), with the pseudo-gradient Delta_k = -d_k:
//   sgd       change = -eta d                                         (FedAvg / FedSGD)
//   momentum  m <- beta m + d;  change = -eta m                       (FedAvgM, Hsu et al. 2019)
//   adagrad   v <- v + d^2                                             (FedAdagrad)
//   adam      v <- beta2 v + (1 - beta2) d^2                           (FedAdam)
//   yogi      v <- v - (1 - beta2) d^2 sign(v - d^2)                   (FedYogi)
//   and for the last three: m <- beta1 m + (1 - beta1) d;  change = -eta m / (sqrt(v) + tau),
//   with m = 0 and v = tau^2 at the start, no bias correction (as in the paper).
// Everything is elementwise in double over the exact aggregate, so a run is
// bit-identical whatever the order updates arrived in. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "experiment/experiment_config.h"
#include "core/state_io.h"

namespace edgefl {

class ServerOptimizer {
 public:
  virtual ~ServerOptimizer() = default;
  // Writes the model change for `direction` at step size `eta`.
  virtual void Change(std::span<const double> direction, double eta, std::span<double> change) = 0;
  virtual void Save(StateWriter&) const {}
  virtual Status Load(StateReader&) { return Status::Ok(); }
};

class SgdOptimizer final : public ServerOptimizer {
 public:
  void Change(std::span<const double> direction, double eta, std::span<double> change) override;
};

// The optimiser `config` names, for `dimension` coordinates.
std::unique_ptr<ServerOptimizer> MakeServerOptimizer(const ServerConfig& config, uint32_t dimension);

}  // namespace edgefl
