// Classifier: softmax regression or a one-hidden-layer ReLU network, with
// the mean cross-entropy loss and its gradient over a batch of rows. All
// memory is the caller's (parameters, rows, gradient, and a workspace of
// WorkspaceFloats(rows) floats); Eigen works through Maps over it, so a
// node's round allocates nothing. Parameter layout, flattened:
//   logistic: W (classes x features, row-major), b (classes)
//   mlp:      W1 (hidden x features), b1 (hidden), W2 (classes x hidden), b2 (classes)
// Stateless after construction; thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "schemas/codec/task_spec.h"

namespace edgefl {

class Classifier {
 public:
  Classifier(wire::ObjectiveKind kind, uint32_t features, uint32_t classes, uint32_t hidden);

  uint32_t ParameterCount() const;
  size_t WorkspaceFloats(uint32_t rows) const;

  // Mean cross-entropy of `rows` (rows x features) with `labels`; fills
  // `grad` with its gradient when it is not empty. Counts correct argmax
  // predictions into *correct when given.
  double LossAndGradient(std::span<const float> params, std::span<const float> rows, std::span<const uint8_t> labels,
                         std::span<float> grad, std::span<float> workspace, uint32_t* correct = nullptr) const;

  // A starting point: zeros for logistic; for mlp, W1 and W2 uniform in
  // +-sqrt(6/(fan_in + fan_out)) (Glorot) from `seed`, biases zero.
  void InitialParameters(uint64_t seed, std::span<float> params) const;

 private:
  wire::ObjectiveKind kind_;
  uint32_t features_;
  uint32_t classes_;
  uint32_t hidden_;
};

}  // namespace edgefl
