#include "coordinator/control_variate.h"

namespace edgefl {

ControlVariate::ControlVariate(uint32_t dimension, uint32_t population)
    : sum_(dimension), inverse_population_(1.0 / static_cast<double>(population)) {}

void ControlVariate::Step(std::span<float> control) const {
  for (uint32_t j = 0; j < control.size(); ++j) {
    control[j] = static_cast<float>(static_cast<double>(control[j]) + sum_.Value(j, inverse_population_));
  }
}

}  // namespace edgefl
