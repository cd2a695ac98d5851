// Anchors the shared precompiled header (common/pch.hpp); it holds no code.
