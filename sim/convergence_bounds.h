// The convergence bounds of P1 (docs/theory.md 4.1) for a config, where their
// assumptions hold: f mu-PL and L-smooth (the quadratic: mu = lambda_min,
// L = lambda_max), identical nodes, a constant step and sgd at the server.
//   DCSGD (P1 Thm 3), mean of an unbiased compressor with bound omega, noise
//   of finite per-coordinate variance s^2 (gaussian, student-t with nu > 2):
//     Delta = 1 - eta L^2 omega / (2 mu N),
//     floor = (eta L d / (4 mu N)) s^2 (1 + omega) / Delta,
//   valid only when Delta > 0.
//   DSignSGD (P1 Thm 4), mean of signs, noise of scale s = sigma / sqrt(B):
//     Delta = l / s, floor = (eta L d / (4 mu N)) s / l,
//   with l = F'(0), the standardised noise's density at 0: edgefl's reading
//   of the theorem's constant, an assumption (said in the output).
// Both: E[f(X_t) - f*] <= (f(x_0) - f*) e^(-2 mu Delta t) + (1 - e^(-2 mu Delta t)) floor,
// at SDE time t = k eta. Pure functions.
#pragma once

#include <optional>
#include <string>

#include "experiment/experiment_config.h"

namespace edgefl {

struct ConvergenceBound {
  const char* theorem = "";  // which, in words
  double mu = 0.0, l = 0.0;  // the PL and smoothness constants used
  double delta = 0.0;
  double floor = 0.0;        // infinite when delta <= 0 (no guarantee)
  const char* assumption = "";  // what edgefl assumed beyond the theorem ("" if nothing)
  // The bound on E f after `rounds` rounds, from f(x_0) = initial_loss.
  double At(double initial_loss, double rounds, double eta) const;
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
};
std::optional<StepLimit> StepSizeLimit(const ExperimentConfig& config);

}  // namespace edgefl
