// Builds a Python scenario (ScenarioSpec) as an ns-3 simulation with the
// quic module, runs it and collects the result columns. ns-3's simulator,
// node list and address generator are process-wide, so one run at a time:
// RunScenario serializes callers (the binding calls it without the GIL).
#ifndef QUICBED_BINDINGS_SCENARIO_RUNNER_H
#define QUICBED_BINDINGS_SCENARIO_RUNNER_H

#include "scenario-spec.h"

namespace quicbed_py
{

RunResult RunScenario(const ScenarioSpec& spec, const RunOptions& options);

} // namespace quicbed_py

#endif
