#include "maths/classifier.h"

#include <algorithm>
#include <cmath>

#include "core/rng.h"

namespace edgefl {
namespace {

// Every sum below runs in index order in f32, each product and sum rounded on
// its own (docs/protocol.md 7 states the orders), so every host computes the
// same bits; a library's blocked matrix product would sum in an order of its
// own, and fused on some hosts.

// out[r][k] = bias[k] + sum_i in[r][i] w[k][i], for rows x outputs.
void Affine(const float* in, const float* w, const float* bias, size_t rows, size_t inputs, size_t outputs, float* out) {
  for (size_t r = 0; r < rows; ++r) {
    const float* x = in + r * inputs;
    for (size_t k = 0; k < outputs; ++k) {
      const float* wk = w + k * inputs;
      float sum = 0.0f;
      for (size_t i = 0; i < inputs; ++i) sum += x[i] * wk[i];
      out[r * outputs + k] = sum + bias[k];
    }
  }
}

// gw[k][i] = sum_r delta[r][k] in[r][i] and gb[k] = sum_r delta[r][k], the
// sums over r in order.
void AffineGradient(const float* delta, const float* in, size_t rows, size_t inputs, size_t outputs, float* gw,
                    float* gb) {
  std::fill(gw, gw + outputs * inputs, 0.0f);
  std::fill(gb, gb + outputs, 0.0f);
  for (size_t r = 0; r < rows; ++r) {
    const float* x = in + r * inputs;
    for (size_t k = 0; k < outputs; ++k) {
      const float dk = delta[r * outputs + k];
      float* gwk = gw + k * inputs;
      for (size_t i = 0; i < inputs; ++i) gwk[i] += dk * x[i];
      gb[k] += dk;
    }
  }
}

// Turns logits (rows x classes) into probabilities in place; returns the
// summed cross-entropy and counts argmax hits (the first largest logit).
double SoftmaxCrossEntropy(float* logits, size_t rows, size_t classes, std::span<const uint8_t> labels,
                           uint32_t* correct) {
  double loss = 0.0;
  for (size_t r = 0; r < rows; ++r) {
    float* row = logits + r * classes;
    size_t best = 0;
    for (size_t k = 1; k < classes; ++k) best = row[k] > row[best] ? k : best;
    const float max = row[best];
    if (correct != nullptr && best == labels[r]) ++*correct;
    float sum = 0.0f;
    for (size_t k = 0; k < classes; ++k) {
      row[k] = std::exp(row[k] - max);
      sum += row[k];
    }
    for (size_t k = 0; k < classes; ++k) row[k] /= sum;
    loss -= std::log(std::max(row[labels[r]], 1e-30f));
  }
  return loss;
}

// The gradient of the mean cross-entropy with respect to the logits, in
// place of the probabilities: (p - onehot(label)) / n.
void LogitGradient(float* probabilities, size_t rows, size_t classes, std::span<const uint8_t> labels) {
  const float inverse_n = 1.0f / static_cast<float>(rows);
  for (size_t r = 0; r < rows; ++r) {
    float* row = probabilities + r * classes;
    row[labels[r]] -= 1.0f;
    for (size_t k = 0; k < classes; ++k) row[k] *= inverse_n;
  }
}

}  // namespace

Classifier::Classifier(wire::ObjectiveKind kind, uint32_t features, uint32_t classes, uint32_t hidden)
    : kind_(kind), features_(features), classes_(classes), hidden_(kind == wire::ObjectiveKind::Mlp ? hidden : 0) {}

uint32_t Classifier::ParameterCount() const {
  if (kind_ == wire::ObjectiveKind::Mlp) return hidden_ * (features_ + 1) + classes_ * (hidden_ + 1);
  return classes_ * (features_ + 1);
}

size_t Classifier::WorkspaceFloats(uint32_t rows) const { return size_t{rows} * (classes_ + 2 * hidden_); }

double Classifier::LossAndGradient(std::span<const float> params, std::span<const float> rows,
                                   std::span<const uint8_t> labels, std::span<float> grad, std::span<float> workspace,
                                   uint32_t* correct) const {
  const size_t n = labels.size(), f = features_, c = classes_, h = hidden_;
  const float* x = rows.data();
  float* logits = workspace.data();
  const bool want_grad = !grad.empty();

  if (kind_ != wire::ObjectiveKind::Mlp) {
    // W (c x f), then b (c).
    const float* w = params.data();
    const float* b = w + c * f;
    Affine(x, w, b, n, f, c, logits);
    const double loss = SoftmaxCrossEntropy(logits, n, c, labels, correct);
    if (want_grad) {
      LogitGradient(logits, n, c, labels);
      AffineGradient(logits, x, n, f, c, grad.data(), grad.data() + c * f);
    }
    return loss / static_cast<double>(n);
  }

  // W1 (h x f), b1 (h), W2 (c x h), b2 (c).
  const float* w1 = params.data();
  const float* b1 = w1 + h * f;
  const float* w2 = b1 + h;
  const float* b2 = w2 + c * h;
  float* hidden = workspace.data() + n * c;
  float* delta = hidden + n * h;
  Affine(x, w1, b1, n, f, h, hidden);
  for (size_t i = 0; i < n * h; ++i) hidden[i] = std::max(hidden[i], 0.0f);
  Affine(hidden, w2, b2, n, h, c, logits);
  const double loss = SoftmaxCrossEntropy(logits, n, c, labels, correct);
  if (want_grad) {
    LogitGradient(logits, n, c, labels);
    float* gw1 = grad.data();
    float* gw2 = gw1 + h * (f + 1);
    AffineGradient(logits, hidden, n, h, c, gw2, gw2 + c * h);
    // delta[r][j] = sum_k dlogits[r][k] W2[k][j] where the unit is active.
    for (size_t r = 0; r < n; ++r) {
      for (size_t j = 0; j < h; ++j) {
        float sum = 0.0f;
        for (size_t k = 0; k < c; ++k) sum += logits[r * c + k] * w2[k * h + j];
        delta[r * h + j] = hidden[r * h + j] > 0.0f ? sum : 0.0f;
      }
    }
    AffineGradient(delta, x, n, f, h, gw1, gw1 + h * f);
  }
  return loss / static_cast<double>(n);
}

void Classifier::InitialParameters(uint64_t seed, std::span<float> params) const {
  std::fill(params.begin(), params.end(), 0.0f);
  if (kind_ != wire::ObjectiveKind::Mlp) return;
  Rng rng(DeriveSeed(seed, 0x1417));
  const size_t f = features_, c = classes_, h = hidden_;
  const double limit1 = std::sqrt(6.0 / static_cast<double>(f + h));
  for (size_t i = 0; i < h * f; ++i) params[i] = static_cast<float>((2 * rng.Uniform() - 1) * limit1);
  const double limit2 = std::sqrt(6.0 / static_cast<double>(h + c));
  const size_t w2 = h * (f + 1);
  for (size_t i = 0; i < c * h; ++i) params[w2 + i] = static_cast<float>((2 * rng.Uniform() - 1) * limit2);
}

}  // namespace edgefl
