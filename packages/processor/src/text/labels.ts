/** Label value that the loss ignores, as in Hugging Face transformers and PyTorch's cross-entropy. */
export const IGNORE_INDEX = -100;
