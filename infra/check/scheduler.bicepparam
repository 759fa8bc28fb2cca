// Compiled by scripts/bicep-check.sh: the template with the Durable Task Scheduler as the Durable backend.
using '../main.bicep'

param environmentName = 'check'
param location = 'swedencentral'
param durableBackend = 'scheduler'
param schedulerSku = 'Dedicated'
param schedulerCapacity = 3
