//! What the trainer needs to know about the networks, so that nothing outside
//! `src/models/` names one: each architecture's feature settings, default optimiser
//! settings, and how its backbone (if any) is obtained.
