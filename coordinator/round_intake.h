// RoundIntake: what a round does with the answers it gets, once the
// protocol's checks have passed (MessageHandler). On the wall clock, as
// each arrives: a seeded dropout loses it, an over-committed round that has
// its cohort's K takes it as late, and any other is decoded and added. On
// the virtual clock every answer is held until the round closes, and
// ChooseHeld counts those whose modelled arrival makes them count
// (experiment/virtual_round.h). Complete() says when the round has what it waits for.
// A counted update goes to the audit chain and the kept updates
// (Session::CountAdded). Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "coordinator/cohort_sampler.h"
#include "coordinator/message_handler.h"
#include "coordinator/session.h"
#include "experiment/virtual_round.h"

namespace edgefl {

class RoundIntake final : public UpdateSink {
 public:
  explicit RoundIntake(Session& session);

  // The round's start went out at `round_start_ms`.
  void Begin(int64_t round_start_ms);
  Status OnUpdate(uint32_t node, uint32_t round, const wire::Update& update,
                  std::span<const uint8_t> message) override;
  // Every asked node answered (and none was lost to a dropout, whose answer
  // the round waits for until its deadline), or, over-committed on the wall
  // clock, the cohort's K counted.
  bool Complete() const;
  // Virtual clock, once the round closed: counts the held answers that
  // arrive in time, in the first K; returns the round's modelled seconds.
  // Refusals (an update that does not decode) go through `handler`.
  double ChooseHeld(MessageHandler& handler);

 private:
  Session& s_;
  CohortSampler cohort_;
  const bool virtual_;
  std::vector<Arrival> arrivals_;  // virtual clock: this round's held answers
  int64_t round_start_ms_ = 0;
};

}  // namespace edgefl
