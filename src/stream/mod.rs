//! Live session streams (transcript rendering, reconnection) build here.
