"""The beauty net: tier architectures, the .bmodel writer/reader, training and export."""
