// What the edgefl commands that run processes share: a stop flag that
// SIGINT and SIGTERM set (waits return early: no SA_RESTART), and the
// local time as text for folder names and log headers.
#pragma once

#include <atomic>
#include <string>

namespace edgefl {

// Installs the handlers (once is enough; again is harmless) and returns the flag they set.
std::atomic<bool>& StopOnSignal();
// Whether a signal has asked to stop.
bool StopRequested();

// The local time formatted by strftime's `format`.
std::string LocalTime(const char* format);

}  // namespace edgefl
