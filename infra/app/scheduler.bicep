// The Durable Task Scheduler backend: a scheduler, the app's task hub, and the one role the app's identity needs on it.
param location string
param tags object
param name string
param taskHubName string
param principalId string

@description('Consumption (pay per action, nothing at idle) or Dedicated (capacity units at a fixed monthly cost).')
@allowed(['Consumption', 'Dedicated'])
param sku string

@description('Dedicated only: capacity units (1 to 3; 3 for high availability).')
@minValue(1)
@maxValue(3)
param capacity int

// Durable Task Data Contributor: the app starts, reads, signals, terminates and purges instances and entities through
// its Durable client, which Durable Task Worker (processing work items only) does not allow. Assigned on the task hub,
// not the scheduler: the least scope that works.
var durableTaskDataContributor = '0ad04412-c4d5-4796-b79c-f76d14c8d402'

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // Reached over the public endpoint with Entra tokens only; the allow list admits any address (no keys exist).
    ipAllowlist: ['0.0.0.0/0']
    sku: sku == 'Dedicated' ? { name: sku, capacity: capacity } : { name: sku }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: taskHubName
  properties: {}
}

resource dataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(taskHub.id, principalId, durableTaskDataContributor)
  scope: taskHub
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
  }
}

output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
output name string = scheduler.name
