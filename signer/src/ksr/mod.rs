//! The KSR/SKR XML documents: their model, reader and writer.
