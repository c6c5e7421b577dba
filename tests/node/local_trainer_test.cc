// The node's local training (node/local_trainer.h) and privacy stages
// against hand-written references: each optimiser's arithmetic as
// docs/protocol.md 7.1 writes it (bit for bit) and as the textbook writes it
// in double (within f32 rounding), whole rounds of E steps through
// NodeRuntime, the moments' lifetime, and clipping's bound.
#include "node/local_trainer.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/rng.h"
#include "maths/vector_norms.h"
#include "node/node_runtime.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

using Optimizer = wire::LocalOptimizer;

codec::LocalSpec Spec(Optimizer optimizer, uint32_t steps = 1) {
  codec::LocalSpec spec;
  spec.optimizer = optimizer;
  spec.steps = steps;
  spec.lr = 0.05;
  spec.momentum = 0.8;
  spec.beta2 = 0.99;
  spec.epsilon = 1e-6;
  return spec;
}

std::vector<float> Gradient(uint64_t seed, size_t d) {
  Rng rng(seed);
  std::vector<float> g(d);
  for (float& x : g) x = static_cast<float>(rng.Normal());
  return g;
}

// docs/protocol.md 7.1, written out again: each operation in f32, in the
// order the text gives, the scalars rounded to f32 once.
struct ReferenceOptimizer {
  codec::LocalSpec spec;
  std::vector<float> m, v;
  uint64_t t = 0;
  std::vector<float> ci, c;  // scaffold

  void Direct(std::vector<float>& g) {
    const float beta = static_cast<float>(spec.momentum);
    if (m.empty()) m.assign(g.size(), 0.0f), v.assign(g.size(), 0.0f);
    switch (spec.optimizer) {
      case Optimizer::Sgd:
        break;
      case Optimizer::Momentum:
        for (size_t j = 0; j < g.size(); ++j) g[j] = m[j] = beta * m[j] + g[j];
        break;
      case Optimizer::Nesterov:
        for (size_t j = 0; j < g.size(); ++j) {
          m[j] = beta * m[j] + g[j];
          g[j] = g[j] + beta * m[j];
        }
        break;
      case Optimizer::Adam: {
        ++t;
        const float c1 = static_cast<float>(1.0 - std::pow(spec.momentum, static_cast<double>(t)));
        const float c2 = static_cast<float>(1.0 - std::pow(spec.beta2, static_cast<double>(t)));
        for (size_t j = 0; j < g.size(); ++j) {
          m[j] = beta * m[j] + static_cast<float>(1.0 - spec.momentum) * g[j];
          v[j] = static_cast<float>(spec.beta2) * v[j] + static_cast<float>(1.0 - spec.beta2) * (g[j] * g[j]);
          g[j] = (m[j] / c1) / (std::sqrt(v[j] / c2) + static_cast<float>(spec.epsilon));
        }
        break;
      }
      case Optimizer::Scaffold:
        for (size_t j = 0; j < g.size(); ++j) g[j] = (g[j] - ci[j]) + c[j];
        break;
    }
  }
};

constexpr Optimizer kAllOptimizers[] = {Optimizer::Sgd, Optimizer::Momentum, Optimizer::Nesterov, Optimizer::Adam,
                                        Optimizer::Scaffold};

TEST_CASE("each optimiser's direction is the documented arithmetic, bit for bit, over many steps") {
  constexpr size_t d = 257;
  for (const Optimizer optimizer : kAllOptimizers) {
    CAPTURE(codec::NameIn(codec::LocalOptimizerNames(), optimizer));
    const codec::LocalSpec spec = Spec(optimizer);
    const std::vector<float> ci = Gradient(1001, d), c = Gradient(1002, d);
    ReferenceOptimizer reference{spec, {}, {}, 0, ci, c};
    std::vector<float> m(d), v(d);
    OptimizerState state{.first_moment = m, .second_moment = v, .client_control = ci, .server_control = c};
    for (uint64_t step = 1; step <= 50; ++step) {
      std::vector<float> g = Gradient(step, d);
      std::vector<float> expected = g;
      reference.Direct(expected);
      LocalTrainer::Direct(spec, state, g);
      for (size_t j = 0; j < d; ++j) REQUIRE(g[j] == expected[j]);
    }
  }
}

TEST_CASE("adam matches Kingma and Ba's algorithm in double within f32 rounding") {
  // Algorithm 1 of the paper, in double: m_t = b1 m + (1 - b1) g,
  // v_t = b2 v + (1 - b2) g^2, u = m_t/(1 - b1^t) / (sqrt(v_t/(1 - b2^t)) + eps).
  // f32 carries 24 bits: a few roundings a step, compounded over the decaying
  // moments, stay within 1e-5 relative of the double result.
  constexpr size_t d = 64;
  const codec::LocalSpec spec = Spec(Optimizer::Adam);
  std::vector<float> m(d), v(d);
  std::vector<double> md(d), vd(d);
  OptimizerState state{.first_moment = m, .second_moment = v};
  for (uint64_t t = 1; t <= 200; ++t) {
    std::vector<float> g = Gradient(100 + t, d);
    const std::vector<float> raw = g;
    LocalTrainer::Direct(spec, state, g);
    for (size_t j = 0; j < d; ++j) {
      md[j] = spec.momentum * md[j] + (1.0 - spec.momentum) * raw[j];
      vd[j] = spec.beta2 * vd[j] + (1.0 - spec.beta2) * raw[j] * raw[j];
      const double u = md[j] / (1.0 - std::pow(spec.momentum, t)) /
                       (std::sqrt(vd[j] / (1.0 - std::pow(spec.beta2, t))) + spec.epsilon);
      REQUIRE(std::fabs(g[j] - u) <= 1e-5 * std::fabs(u) + 1e-6);
    }
  }
  // The first step of Adam is sign(g) up to epsilon: m̂ = g, v̂ = g².
  std::vector<float> m0(d), v0(d), g = Gradient(7, d);
  const std::vector<float> raw = g;
  OptimizerState first{.first_moment = m0, .second_moment = v0};
  LocalTrainer::Direct(spec, first, g);
  for (size_t j = 0; j < d; ++j) CHECK(g[j] == doctest::Approx(raw[j] / (std::fabs(raw[j]) + 1e-6)).epsilon(1e-6));
}

// A node on f(x) = 1/2 sum_j lambda_j x_j^2 without noise, so that a round's
// E steps can be followed by hand.
codec::TaskSpec QuadraticTask(const codec::LocalSpec& local, uint32_t d = 40) {
  codec::TaskSpec task;
  task.objective.dimension = d;
  task.objective.lambda_min = 0.5;
  task.objective.lambda_max = 3.0;
  task.noise.kind = wire::NoiseKind::None;
  task.local = local;
  task.seed = 9;
  task.num_nodes = 2;
  return task;
}

std::vector<float> SentValues(std::span<const uint8_t> message) {
  const wire::Envelope* envelope = nullptr;
  REQUIRE(codec::ReadEnvelope(message, &envelope).ok());
  const auto* dense = envelope->body_as_Update()->payload_as_DenseF32();
  REQUIRE(dense != nullptr);
  return {dense->values()->begin(), dense->values()->end()};
}

std::vector<float> SentControlDelta(std::span<const uint8_t> message) {
  const wire::Envelope* envelope = nullptr;
  REQUIRE(codec::ReadEnvelope(message, &envelope).ok());
  const auto* delta = envelope->body_as_Update()->control_delta();
  if (delta == nullptr) return {};
  return {delta->begin(), delta->end()};
}

float Lambda(const codec::TaskSpec& task, size_t j) {
  const double t = static_cast<double>(j) / (task.objective.dimension - 1);
  return static_cast<float>(task.objective.lambda_min + (task.objective.lambda_max - task.objective.lambda_min) * t);
}

TEST_CASE("a round of E local steps sends the sum of the directions, FedProx's pull included, moments as chosen, "
          "and scaffold's control change") {
  for (const Optimizer optimizer : kAllOptimizers) {
    for (const double mu : {0.0, 0.3}) {
      for (const bool keep : {false, true}) {
        codec::LocalSpec local = Spec(optimizer, 5);
        local.prox_mu = mu;
        local.keep_state = keep;
        CAPTURE(codec::NameIn(codec::LocalOptimizerNames(), optimizer));
        CAPTURE(mu);
        CAPTURE(keep);
        const codec::TaskSpec task = QuadraticTask(local);
        const uint32_t d = task.objective.dimension;
        Arena arena(PlanNodeMemory(task).total_bytes);
        NodeRuntime runtime(task, arena);
        REQUIRE(arena.status().ok());

        ReferenceOptimizer reference{local, {}, {}, 0, std::vector<float>(d, 0.0f), {}};
        std::vector<float> model(d);
        for (uint32_t j = 0; j < d; ++j) model[j] = 1.0f - 0.04f * static_cast<float>(j);
        for (uint32_t round = 0; round < 3; ++round) {
          if (!keep) reference = ReferenceOptimizer{local, {}, {}, 0, reference.ci, {}};
          // The coordinator's c of the round, as a RoundStart would bring it.
          reference.c = Gradient(50 + round, d);
          if (local.HasControl()) {
            std::copy(reference.c.begin(), reference.c.end(), runtime.server_control().begin());
          }
          std::vector<float> x = model, sum(d, 0.0f);
          for (uint32_t t = 0; t < local.steps; ++t) {
            std::vector<float> g(d);
            for (uint32_t j = 0; j < d; ++j) g[j] = Lambda(task, j) * x[j];
            if (t > 0 && mu > 0.0) {
              for (uint32_t j = 0; j < d; ++j) g[j] = g[j] + static_cast<float>(mu) * (x[j] - model[j]);
            }
            reference.Direct(g);
            for (uint32_t j = 0; j < d; ++j) {
              x[j] = x[j] - static_cast<float>(local.lr) * g[j];
              sum[j] = sum[j] + g[j];
            }
          }
          const auto message = runtime.ComputeUpdate(round, model);
          const std::vector<float> sent = SentValues(message);
          REQUIRE(sent.size() == d);
          for (uint32_t j = 0; j < d; ++j) REQUIRE(sent[j] == sum[j]);
          const std::vector<float> delta = SentControlDelta(message);
          if (local.HasControl()) {
            // Option II: c_i+ = c_i - c + (sum_t u_t)/E, the change sent.
            REQUIRE(delta.size() == d);
            for (uint32_t j = 0; j < d; ++j) {
              const float expected = sum[j] / static_cast<float>(local.steps) - reference.c[j];
              REQUIRE(delta[j] == expected);
              reference.ci[j] = reference.ci[j] + expected;
            }
          } else {
            CHECK(delta.empty());
          }
          for (uint32_t j = 0; j < d; ++j) model[j] -= 0.1f * sum[j];  // the next round's model
        }
      }
    }
  }
}

TEST_CASE("one sgd step sends the gradient itself, whatever lr") {
  codec::LocalSpec local;
  local.lr = 123.0;
  const codec::TaskSpec task = QuadraticTask(local);
  Arena arena(PlanNodeMemory(task).total_bytes);
  NodeRuntime runtime(task, arena);
  std::vector<float> model(task.objective.dimension, 0.75f);
  const std::vector<float> sent = SentValues(runtime.ComputeUpdate(0, model));
  for (size_t j = 0; j < sent.size(); ++j) CHECK(sent[j] == Lambda(task, j) * 0.75f);
  // No local model, direction sum or moments are planned for it.
  const MemoryPlan& plan = runtime.memory_plan();
  for (const NodeBuffer buffer :
       {NodeBuffer::kLocalModel, NodeBuffer::kDirectionSum, NodeBuffer::kFirstMoment, NodeBuffer::kSecondMoment}) {
    CHECK_FALSE(plan.used[static_cast<size_t>(buffer)]);
  }
}

TEST_CASE("each optimiser plans exactly the buffers it carves") {
  const size_t vector_bytes = 1024 * sizeof(float);  // a multiple of the arena's 64-byte alignment
  struct Case {
    Optimizer optimizer;
    uint32_t steps;
    size_t extra_vectors;
  };
  for (const Case c : {Case{Optimizer::Sgd, 1, 0}, Case{Optimizer::Sgd, 5, 2}, Case{Optimizer::Momentum, 1, 1},
                       Case{Optimizer::Nesterov, 5, 3}, Case{Optimizer::Adam, 1, 2}, Case{Optimizer::Adam, 5, 4},
                       Case{Optimizer::Scaffold, 1, 3}, Case{Optimizer::Scaffold, 5, 5}}) {
    const codec::TaskSpec task = QuadraticTask(Spec(c.optimizer, c.steps), 1024);
    const MemoryPlan plan = PlanNodeMemory(task);
    const MemoryPlan base = PlanNodeMemory(QuadraticTask(codec::LocalSpec{}, 1024));
    size_t trainer_bytes = 0;
    for (const NodeBuffer buffer : {NodeBuffer::kLocalModel, NodeBuffer::kDirectionSum, NodeBuffer::kFirstMoment,
                                    NodeBuffer::kSecondMoment, NodeBuffer::kClientControl,
                                    NodeBuffer::kServerControl, NodeBuffer::kControlDelta}) {
      trainer_bytes += plan.BytesOf(buffer);
    }
    CHECK(trainer_bytes == c.extra_vectors * vector_bytes);
    // Scaffold's messages also grow: the update by its control change, the
    // round start by the control values beside the model.
    if (c.optimizer != Optimizer::Scaffold) CHECK(plan.total_bytes - base.total_bytes == trainer_bytes);
    Arena arena(plan.total_bytes);
    NodeRuntime runtime(task, arena);
    REQUIRE(arena.status().ok());
    CHECK(runtime.trainer().first_moment().size_bytes() == plan.BytesOf(NodeBuffer::kFirstMoment));
    CHECK(runtime.trainer().second_moment().size_bytes() == plan.BytesOf(NodeBuffer::kSecondMoment));
    CHECK(plan.total_bytes - arena.used() <= Arena::kAlignment);
  }
}

TEST_CASE("clipping never leaves a vector longer than its bound, and leaves a shorter one alone") {
  Rng rng(31);
  for (int trial = 0; trial < 2000; ++trial) {
    const size_t d = 1 + rng.Below(3000);
    const double scale = std::pow(10.0, -20.0 + 40.0 * rng.Uniform());
    std::vector<float> v(d);
    for (float& x : v) x = static_cast<float>(scale * rng.Normal());
    const double bound = std::pow(10.0, -20.0 + 40.0 * rng.Uniform());
    const std::vector<float> before = v;
    const double norm = ClipToNorm(v, bound);
    CHECK(norm == std::sqrt(SquaredNorm(before)));
    const double after = std::sqrt(SquaredNorm(v));
    REQUIRE(after <= bound);
    if (norm <= bound) {
      CHECK(v == before);
    } else {
      CHECK(after >= bound * (1.0 - 1e-5));  // scaled to the bound, less the 2^-20 margin
    }
  }
}

TEST_CASE("the node clips its update to privacy.clip_norm, and local DP adds noise of deviation z C") {
  codec::LocalSpec local = Spec(Optimizer::Sgd, 3);
  codec::TaskSpec task = QuadraticTask(local, 20000);
  task.compressor.kind = wire::CompressorKind::Identity;
  task.privacy.clip_norm = 0.5;
  Arena arena(PlanNodeMemory(task).total_bytes);
  NodeRuntime runtime(task, arena);
  std::vector<float> model(task.objective.dimension, 2.0f);
  const auto clipped = SentValues(runtime.ComputeUpdate(0, model));
  CHECK(std::sqrt(SquaredNorm(clipped)) <= 0.5);
  CHECK(std::sqrt(SquaredNorm(clipped)) >= 0.5 * (1.0 - 1e-5));

  task.privacy.noise_multiplier = 2.0;
  Arena noisy_arena(PlanNodeMemory(task).total_bytes);
  NodeRuntime noisy(task, noisy_arena);
  const auto released = SentValues(noisy.ComputeUpdate(0, model));
  // The noise is released minus clipped: d = 20000 draws of N(0, (z C)^2).
  // Their sample variance has relative deviation sqrt(2/d) = 1.0%; 5% is five
  // deviations.
  double sum_sq = 0.0;
  for (size_t j = 0; j < released.size(); ++j) {
    const double e = static_cast<double>(released[j]) - clipped[j];
    sum_sq += e * e;
  }
  CHECK(sum_sq / static_cast<double>(released.size()) == doctest::Approx(1.0).epsilon(0.05));
}

}  // namespace
}  // namespace edgefl
