// RoundLoop: the coordinator's rounds. Joins the population, then, each
// round: draws the cohort (CohortSampler), sends the model to it, collects
// answers until the round is complete (every asked node answered, or the
// cohort's K with over-commitment) or its deadline, decides which answers
// count (as they arrive on the wall clock; by modelled arrival under the
// virtual clock, experiment/virtual_round.h), takes one server step when a
// quorum counted, evaluates, and records the round. A buffered run
// (async.mode = "buffered") has steps instead, each taking the K updates
// BufferedIntake gathers (coordinator/buffered_intake.h). Decisions read the
// Session's clock. Not thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "coordinator/buffered_intake.h"
#include "coordinator/cohort_sampler.h"
#include "coordinator/message_handler.h"
#include "coordinator/model_broadcast.h"
#include "coordinator/privacy_ledger.h"
#include "coordinator/session.h"
#include "coordinator/round_intake.h"
#include "runfiles/run_outcome.h"
#include "strategy/server_step.h"

namespace edgefl {

class RoundLoop {
 public:
  RoundLoop(Session& session, ServerStep& step);

  // Waits until every node of the population has joined.
  Status JoinAll(const std::atomic<bool>& stop);
  // Runs rounds until the run is done; `checkpoint` writes checkpoint.bin
  // every run.checkpoint_every rounds.
  Status RunRounds(const std::atomic<bool>& stop, const std::function<Status()>& checkpoint, RunOutcome* outcome);
  // Tells every node the run is over, and waits briefly for their Byes.
  void SayBye(const char* reason);
  // Logs what the aggregator did over the run (bounded updates, Krum's fallback).
  void SayWhatAggregationDid() const;

  // Keeps grad f at the model (evaluated last) for the online smoothness fit.
  void CopyGradient();
  // A step has moved the model in a round not yet counted: no checkpoint now.
  bool mid_round() const { return mid_round_; }
  uint64_t refusals_held_back() const { return handler_.held_back(); }

 private:
  enum class RoundEnd {
    kStep,         // recorded, with a step
    kNoStep,       // recorded, without its quorum of updates: no step
    kFewDrawn,     // recorded, no step: the availability draws left fewer than the quorum (not a failure)
    kTooFewNodes,  // not started: fewer live nodes than the quorum (m->participants of them)
    kCutShort,     // a signal came before every participant answered: not recorded, no step
  };
  // A round's (or step's) start: its metrics, the collector and the audit chain opened.
  void OpenRound();
  RoundEnd RunRound(const std::atomic<bool>& stop, RoundMetrics* m);
  // A buffered step: tasks out, updates in until the buffer holds K, the step.
  RoundEnd RunBufferedStep(const std::atomic<bool>& stop, RoundMetrics* m);
  // The round's or step's metrics.csv row and audit link.
  void Record(bool stepped, double time_s, RoundMetrics* m);
  // Sends the model (or the steps to it) to every participant.
  void StartRound();
  // The root of relays: the cohort drawn over the population
  // (CohortSampler::DrawFromPopulation), each relay asked for its share of
  // it; returns the nodes asked.
  uint32_t SelectRelays(uint32_t round);
  void StepAndEvaluate(bool stepped);
  void NoteAggregation(uint32_t round);
  void LogProgress(const RoundMetrics& m) const;

  Session& s_;
  ServerStep& step_;
  RoundIntake intake_;
  BufferedIntake buffered_;
  ModelBroadcast broadcast_;
  MessageHandler handler_;
  CohortSampler cohort_;
  PrivacyLedger privacy_;
  const bool virtual_clock_;
  const bool buffered_mode_;
  const bool steps_down_;  // round.downlink = "step"

  std::vector<double> direction_;
  std::vector<uint32_t> cohort_members_;  // the root of relays: this round's cohort
  StepRecord step_record_;            // round.downlink = "step": the round's step, as sent
  std::vector<double> step_scratch_;
  std::vector<float> gradient_before_;  // grad f at the round's start (step.smoothness = "online")
  uint64_t bounded_updates_ = 0;        // scaled down to aggregator.max_update_norm
  uint32_t fallback_rounds_ = 0;        // krum took the median
  bool mid_round_ = false;
  int64_t rounds_start_ms_ = 0;  // the first round began, less a resumed run's earlier rounds (metrics time_s)
};

}  // namespace edgefl
