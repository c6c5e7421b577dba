// ControlVariate: SCAFFOLD's server control variate c (Karimireddy et al.
// 2020, option II). Every counted update carries its node's change
// c_i+ - c_i (Update.control_delta); they are summed exactly, in any order
// (ExactSum), and a round that steps moves c by the sum over N, the
// population: c stays the mean of the nodes' c_i as long as every change a
// node makes is counted (a late or dropped update's change is lost to c, as
// the update is). c itself lives in RunState (checkpointed) and travels to
// the nodes beside the model in RoundStart. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "coordinator/exact_sum.h"

namespace edgefl {

class ControlVariate {
 public:
  ControlVariate(uint32_t dimension, uint32_t population);

  // A round's start: no changes yet.
  void Reset() { sum_.Clear(); }
  // One counted update's change, checked by codec::ReadControlDelta.
  void Add(std::span<const float> delta) { sum_.AddDense(delta); }
  // c_j <- f32(double(c_j) + sum_j / N), each rounded once.
  void Step(std::span<float> control) const;

 private:
  ExactSum sum_;
  double inverse_population_;
};

}  // namespace edgefl
