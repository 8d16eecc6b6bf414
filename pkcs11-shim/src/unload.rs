//! What must happen when a client `dlclose`s the module.
//!
//! aws-lc keeps per-thread state under a pthread key whose destructor lives in this library.
//! A thread that used the module and exits after the unload would run that destructor from
//! unmapped memory. Deleting the key as the library is unloaded prevents it (the per-thread
//! state of still-running threads is then leaked, which is harmless). Unloading, rather than
//! pinning the library with `-z nodelete`, keeps SoftHSM's behaviour that a fresh `dlopen`
//! starts uninitialised.

/// Called by the dynamic loader when the module is unloaded (and at process exit).
extern "C" fn on_unload() {
    // SAFETY: AWSLC_thread_local_shutdown only deletes aws-lc's pthread key; it is safe to call
    // at unload, when no thread is inside the module any more.
    unsafe {
        aws_lc_sys::AWSLC_thread_local_shutdown();
    }
}

#[used]
#[unsafe(link_section = ".fini_array")]
static ON_UNLOAD: extern "C" fn() = on_unload;
