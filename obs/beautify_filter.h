// Registers the "Beautify" async video filter with libobs (called from obs_module_load).
#pragma once

namespace bty::obs {
void register_beautify_filter();
}
