//! Images: import ([`import_path`], [`import_reader`], [`import_async`],
//! [`import_url`] for an archive kept in the store),
//! the store of records and cached layers ([`ImageStore`]) and the default
//! image: busybox plus the host's GNU tools ([`ensure_default_image`]).

mod busybox;
mod elf;
mod format;
mod host_tools;
mod import;
mod limits;
mod store;
mod unpack;
#[cfg(test)]
mod unpack_prop;
mod url;

pub use busybox::{ensure_default_image, DEFAULT_IMAGE};
pub use import::{import_async, import_path, import_reader};
pub use limits::ImageLimits;
pub use store::{ImageRecord, ImageStore};
pub use url::import_url;
