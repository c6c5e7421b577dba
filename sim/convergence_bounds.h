// Convergence bounds for a config (docs/theory.md 4.1), where their
// assumptions hold: f mu-PL and L-smooth (the quadratic: mu = lambda_min,
// L = lambda_max), identical nodes, a constant step and sgd at the server.
//   DCSGD, mean of N updates, each an unbiased compressor (bound omega) of a
//   gradient with noise of finite per-coordinate variance s^2: the descent
//   lemma for the discrete iteration itself, with A = 1 - eta L (1 + omega/N) / 2,
//     E[f_{k+1} - f*] <= q E[f_k - f*] + 2 mu eta A floor,  q = 1 - 2 mu eta A,
//     floor = eta L d s^2 (1 + omega) / (4 mu N A),
//   a bound for every round when A > 0, i.e. eta < 2 / (L (1 + omega/N)).
//   It is P1 Thm 3's SDE floor with that theorem's Delta replaced by A, and
//   exact on an isotropic quadratic (the floor of docs/theory.md 3.5).
//   DSignSGD (P1 Thm 4, an SDE theorem), mean of signs, noise of scale
//   s = sigma / sqrt(B): Delta = l / s, floor = (eta L d / (4 mu N)) s / l,
//   q = e^(-2 mu Delta eta) a round, with l = F'(0), the standardised
//   noise's density at 0: edgefl's reading of the theorem's constant, an
//   assumption (said in the output).
// Both: E[f(x_k) - f*] <= q^k (f(x_0) - f*) + (1 - q^k) floor. Pure functions.
#pragma once

#include <optional>
#include <string>

#include "experiment/experiment_config.h"

namespace edgefl {

struct ConvergenceBound {
  const char* theorem = "";  // which, in words
  double mu = 0.0, l = 0.0;  // the PL and smoothness constants used
  bool holds = false;        // its condition on the step holds (else no guarantee)
  double step_limit = 0.0;   // DCSGD: the largest eta it holds for (0 for sign: none)
  double contraction = 1.0;  // q, a round's factor on the excess loss
  double floor = 0.0;        // infinite when it does not hold
  const char* assumption = "";  // what edgefl assumed beyond the theorem ("" if nothing)
  // The bound on E f after `rounds` rounds, from f(x_0) = initial_loss.
  double At(double initial_loss, double rounds) const;
};

// nullopt where the theorems' assumptions do not hold for the config.
std::optional<ConvergenceBound> TheoremBound(const ExperimentConfig& config);

// The largest stable step of DCSGD (and DSGD) with the mean, for the synthetic
// objectives: on the quadratic the discrete iteration's exact limit
// 2 / (lambda_max (1 + omega/N)) (docs/theory.md 3.5); on the quartic and the
// cosh P2's condition (4.2) at x_0 with epsilon = 1,
// 2 / (G rho + L1 d sigma0^2 (1 + omega) / N), G = L0 + L1 |grad f(x_0)|,
// rho = 1 + (omega + d sigma1^2 (1 + omega)) / N. nullopt for the sign
// family (no condition on the step) and the data objectives.
struct StepLimit {
  double eta = 0.0;
  const char* source = "";  // where it comes from, in words
  // The quadratic's limit is exact (the iteration's second moment grows past
  // it); P2's condition is only sufficient for its bound: runs can be
  // stable far past it (the quartic with compression, 74-fold).
  bool exact = false;
};
std::optional<StepLimit> StepSizeLimit(const ExperimentConfig& config);

}  // namespace edgefl
