// VariantLinks: what the launcher does to make one variant's node links what
// its [link] section says (link.shaping). For "kernel" it makes KernelLinks
// (sim/kernel_links.h), says which qdiscs it installed, and after the run
// reports their counters (stderr and kernel_links.csv in the run folder) and
// removes them. Where they cannot be made, the run falls back to the token
// bucket and says why in one line: it never runs unshaped in silence. For
// "none" and "token-bucket" there is nothing to make here (the nodes pace
// themselves). Owned by RunVariant; not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "experiment/experiment_config.h"
#include "sim/kernel_links.h"

namespace edgefl {

class VariantLinks {
 public:
  // For link.shaping = kernel: makes the links, or sets
  // config->link.shaping to token-bucket after saying why they cannot be
  // made (when `may_fall_back`; a resumed run may not, since its config and
  // audit chain say kernel: then that is the error). Errors: a config
  // without a rate to shape to.
  Status Prepare(ExperimentConfig* config, bool may_fall_back);

  bool kernel() const { return links_ != nullptr; }
  // Where the coordinator listens: its address on the bridge in kernel
  // mode, loopback otherwise. Either way nothing beyond this machine can
  // reach it, so it needs no CURVE keys (edgefl-coordinator --insecure
  // says so for the bridge).
  std::string CoordinatorBind() const;
  // The network namespaces the coordinator and node `node` run in (-1: the
  // launcher's own).
  int CoordinatorNamespaceFd() const { return links_ ? links_->CoordinatorNamespaceFd() : -1; }
  int NamespaceFd(uint32_t node) const { return links_ ? links_->NamespaceFd(node) : -1; }

  // After every process of the run has ended (`run_s`: seconds it ran):
  // prints each qdisc's counters, writes them to run_dir/kernel_links.csv,
  // and removes the links. Problems are logged; the run's result stands.
  void Finish(const std::string& run_dir, double run_s);

 private:
  std::string variant_;
  std::unique_ptr<KernelLinks> links_;
};

}  // namespace edgefl
