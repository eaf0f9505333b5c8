"""Media: customers' and attendants' images, audio, video, documents and stickers, downloaded and stored."""
