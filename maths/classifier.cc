#include "maths/classifier.h"

#include <Eigen/Core>
#include <cmath>

#include "core/rng.h"

namespace edgefl {
namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;

// Turns logits (rows x classes) into probabilities in place; returns the
// summed cross-entropy and counts argmax hits.
double SoftmaxCrossEntropy(MatrixMap logits, std::span<const uint8_t> labels, uint32_t* correct) {
  double loss = 0.0;
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    auto row = logits.row(r);
    Eigen::Index best = 0;
    const float max = row.maxCoeff(&best);
    if (correct != nullptr && best == labels[static_cast<size_t>(r)]) ++*correct;
    row.array() = (row.array() - max).exp();
    const float sum = row.sum();
    row /= sum;
    loss -= std::log(std::max(row(labels[static_cast<size_t>(r)]), 1e-30f));
  }
  return loss;
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
  const auto n = static_cast<Eigen::Index>(labels.size());
  const auto f = static_cast<Eigen::Index>(features_), c = static_cast<Eigen::Index>(classes_),
             h = static_cast<Eigen::Index>(hidden_);
  const ConstMatrixMap x(rows.data(), n, f);
  MatrixMap logits(workspace.data(), n, c);
  const bool want_grad = !grad.empty();
  const float inverse_n = 1.0f / static_cast<float>(n);

  if (kind_ != wire::ObjectiveKind::Mlp) {
    const ConstMatrixMap w(params.data(), c, f);
    const ConstVectorMap b(params.data() + c * f, c);
    logits.noalias() = x * w.transpose();
    logits.rowwise() += b.transpose();
    const double loss = SoftmaxCrossEntropy(logits, labels, correct);
    if (want_grad) {
      for (Eigen::Index r = 0; r < n; ++r) logits(r, labels[static_cast<size_t>(r)]) -= 1.0f;  // p - y
      logits *= inverse_n;
      MatrixMap gw(grad.data(), c, f);
      VectorMap gb(grad.data() + c * f, c);
      gw.noalias() = logits.transpose() * x;
      gb = logits.colwise().sum().transpose();
    }
    return loss / static_cast<double>(n);
  }

  const ConstMatrixMap w1(params.data(), h, f);
  const ConstVectorMap b1(params.data() + h * f, h);
  const ConstMatrixMap w2(params.data() + h * (f + 1), c, h);
  const ConstVectorMap b2(params.data() + h * (f + 1) + c * h, c);
  MatrixMap hidden(workspace.data() + n * c, n, h);
  MatrixMap delta(workspace.data() + n * (c + h), n, h);
  hidden.noalias() = x * w1.transpose();
  hidden.rowwise() += b1.transpose();
  hidden = hidden.cwiseMax(0.0f);
  logits.noalias() = hidden * w2.transpose();
  logits.rowwise() += b2.transpose();
  const double loss = SoftmaxCrossEntropy(logits, labels, correct);
  if (want_grad) {
    for (Eigen::Index r = 0; r < n; ++r) logits(r, labels[static_cast<size_t>(r)]) -= 1.0f;
    logits *= inverse_n;
    MatrixMap gw1(grad.data(), h, f);
    VectorMap gb1(grad.data() + h * f, h);
    MatrixMap gw2(grad.data() + h * (f + 1), c, h);
    VectorMap gb2(grad.data() + h * (f + 1) + c * h, c);
    gw2.noalias() = logits.transpose() * hidden;
    gb2 = logits.colwise().sum().transpose();
    delta.noalias() = logits * w2;
    delta = (hidden.array() > 0.0f).select(delta, 0.0f);
    gw1.noalias() = delta.transpose() * x;
    gb1 = delta.colwise().sum().transpose();
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
