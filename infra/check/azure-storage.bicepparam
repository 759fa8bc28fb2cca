// Compiled by scripts/bicep-check.sh: the template with the default Durable backend.
using '../main.bicep'

param environmentName = 'check'
param location = 'swedencentral'
param durableBackend = 'azureStorage'
