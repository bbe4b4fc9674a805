"""AWS CodeConnections (and its former name, CodeStar Connections) in the local cloud."""
