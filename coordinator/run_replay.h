// ReplayRun: takes a run's steps again from its config.toml and the updates
// it aggregated (updates.bin, kept with edgefl-coordinator --keep-updates),
// with the coordinator's own aggregator and step rule, and checks every
// round's model against the one its audit chain recorded (audit_trail.h).
// So a finished run's model.bin is shown to follow, bit for bit, from the
// updates the nodes sent: nothing was added to or left out of any step.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"

namespace edgefl {

// `data_dir`: where a data objective's data set is (empty: the default).
// *rounds receives the rounds replayed. The error names the first round
// whose model differs, or the update that could not be taken again.
Status ReplayRun(const std::string& dir, const std::string& data_dir, std::span<const uint8_t> key,
                 uint32_t* rounds);

}  // namespace edgefl
