// Writers of histogram files in the formats Python peers read: .coffea (HaaS flush) and UHI HDF5.
export { coffeaPickle, encodeCoffea } from "./coffea.ts";
export { type Hdf5WriteOptions, writeUhiHdf5 } from "./hdf5.ts";
