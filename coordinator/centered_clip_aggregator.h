// CenteredClipAggregator: centred clipping (Karimireddy, He, Jaggi,
// "Learning from History for Byzantine Robust Optimization", ICML 2021,
// Algorithm 1 and eq. (CC)). From the centre v_0 = the previous round's
// result (0 before the first round that steps), L steps of
//   v_{l+1} = v_l + (1/n) sum_i clip_tau(g_i - v_l),   clip_tau(z) = z min(1, tau/||z||),
// and the direction is v_L, which becomes the next round's centre. An
// update far from the centre moves the result by at most tau/n a step
// however far it lies; updates within tau of the centre are averaged as the
// mean does. The paper's centre is the last aggregate of the workers'
// momenta; with aggregator.node_momentum the coordinator keeps those
// momenta itself (node_momentum_aggregator.h), and the two together are
// the paper's method.
//
// Independent of arrival order, bit for bit: updates are visited in
// UpdateRows::CanonicalOrder (sorted by their bytes); each difference's
// norm is summed in double in coordinate order and each coordinate's sum of
// clipped differences in double in that canonical order. The centre is
// state across rounds: Save and Load keep it in checkpoints, and it changes
// only in Finish.
//
// Memory, allocated at construction for n_max = run.nodes: the rows (4
// n_max d bytes), the centre and a sum (16 d bytes). Time: O(L n d) a
// round. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/update_rows.h"

namespace edgefl {

// One step: v += (1/n) sum over `order` of clip_tau(row_i - v), the rows
// visited in `order`; `sum` is scratch of d doubles.
void CenteredClipStep(const UpdateRows& rows, std::span<const uint32_t> order, double radius, std::span<double> v,
                      std::span<double> sum);

class CenteredClipAggregator final : public Aggregator {
 public:
  // `radius` is tau (> 0), `iterations` L (>= 1).
  CenteredClipAggregator(double radius, uint32_t iterations, uint32_t capacity, uint32_t dimension,
                         size_t max_message_bytes, double max_update_norm);

  void Reset() override { rows_.Clear(); }
  std::span<uint64_t> ReceiveBuffer() override { return receive_buffer_; }
  void Add(const codec::DecodedPayload& update) override { rows_.Add(update); }
  uint32_t count() const override { return rows_.count(); }
  void Finish(std::span<double> direction) override;
  uint32_t bounded() const override { return rows_.bounded(); }

  void Save(StateWriter& out) const override { out.PutSpan(std::span<const double>(centre_)); }
  Status Load(StateReader& in) override { return in.GetSpan(std::span<double>(centre_)); }

  // The centre the next round starts from.
  std::span<const double> centre() const { return centre_; }

 private:
  double radius_;
  uint32_t iterations_;
  UpdateRows rows_;
  std::vector<double> centre_;
  std::vector<double> sum_;
  std::vector<uint32_t> order_;
  std::vector<uint64_t> receive_buffer_;
};

}  // namespace edgefl
